"""One router per resource; :func:`creditrisk.serving.api.app.service_routers` lists them."""
