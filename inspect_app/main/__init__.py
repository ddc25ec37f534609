"""The home page, the service worker, the health check and the navigation."""
