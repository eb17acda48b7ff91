from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from invigilate.accounts.models import Role, User

from .importing import candidates_import
from .models import Candidate, Exam, ExamRoom, ExamStaff, Registration, RoomInvigilator
from .services import (
    EXAM_ROLES,
    exam_staff_assign,
    exam_staff_unassign,
    registration_delete,
    registration_save,
    room_invigilator_assign,
    room_invigilator_unassign,
)


class ImportForm(forms.Form):
    csv_file = forms.FileField(label=_("Candidates (CSV)"))
    photos = forms.FileField(label=_("Photos (zip)"))


class ExamRoomInline(admin.TabularInline):
    model = ExamRoom
    extra = 0


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "starts_at", "duration"]
    list_filter = ["kind"]
    inlines = [ExamRoomInline]
    change_form_template = "admin/exams/exam/change_form.html"

    def get_urls(self):
        return [
            path("<int:exam_id>/import/", self.admin_site.admin_view(self.import_view), name="exams_exam_import"),
            *super().get_urls(),
        ]

    def import_view(self, request, exam_id):
        exam = get_object_or_404(Exam, pk=exam_id)
        if not self.has_change_permission(request, exam):
            return redirect("admin:index")
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            report = candidates_import(
                exam=exam,
                csv_bytes=form.cleaned_data["csv_file"].read(),
                photos_zip=form.cleaned_data["photos"].read(),
                actor=request.user,
            )
            if report.ok:
                messages.success(
                    request,
                    _("Imported: %(c)s created, %(u)s updated, %(n)s unchanged.")
                    % {"c": report.created, "u": report.updated, "n": report.unchanged},
                )
                return redirect(reverse("admin:exams_exam_change", args=[exam.pk]))
        context = {**self.admin_site.each_context(request), "exam": exam, "form": form, "report": report,
                   "opts": self.model._meta, "title": _("Import candidates")}
        return render(request, "admin/exams/exam/import.html", context)


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["full_name", "id_number_masked", "phone"]
    search_fields = ["full_name", "phone"]
    exclude = ["id_number_hash"]
    readonly_fields = ["id_number_masked"]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Who sits where is an assignment too: every change made here is audited. The stage and
    presence are the exam's own state, moved only by its services."""

    list_display = ["ticket_number", "candidate", "exam", "room", "seat", "stage"]
    list_filter = ["exam", "stage"]
    search_fields = ["ticket_number", "candidate__full_name"]
    raw_id_fields = ["candidate"]
    readonly_fields = ["stage", "stage_changed_at", "connected", "last_seen_at", "disconnected_since", "submitted_at"]

    def save_model(self, request, obj, form, change):
        previous = {name: form.initial.get(name) for name in form.changed_data}
        registration_save(registration=obj, previous=previous, actor=request.user)

    def delete_model(self, request, obj):
        registration_delete(registration=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("room"):
            self.delete_model(request, obj)


@admin.register(RoomInvigilator)
class RoomInvigilatorAdmin(admin.ModelAdmin):
    """Assignments go through the services so that each change is audited."""

    list_display = ["room", "user"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(role=Role.INVIGILATOR, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            old = RoomInvigilator.objects.get(pk=obj.pk)
            room_invigilator_unassign(room=old.room, user=old.user, actor=request.user)
        obj.pk = room_invigilator_assign(room=obj.room, user=obj.user, actor=request.user).pk

    def delete_model(self, request, obj):
        room_invigilator_unassign(room=obj.room, user=obj.user, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(ExamStaff)
class ExamStaffAdmin(admin.ModelAdmin):
    list_display = ["exam", "user", "role"]
    list_filter = ["role"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(role__in=EXAM_ROLES, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            old = ExamStaff.objects.get(pk=obj.pk)
            exam_staff_unassign(exam=old.exam, user=old.user, role=old.role, actor=request.user)
        obj.pk = exam_staff_assign(exam=obj.exam, user=obj.user, role=obj.role, actor=request.user).pk

    def delete_model(self, request, obj):
        exam_staff_unassign(exam=obj.exam, user=obj.user, role=obj.role, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
