import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invigilate.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_http = get_asgi_application()  # sets up Django before the consumers import models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from invigilate.evidence.tus import TusApplication  # noqa: E402
from invigilate.realtime.routing import websocket_urlpatterns  # noqa: E402

if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_http = ASGIStaticFilesHandler(django_http)

# tus uploads stream their bodies, which Django's handler would read whole first.
django_http = TusApplication(django_http)

application = ProtocolTypeRouter(
    {
        "http": django_http,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
