"""JSON API v1: thin routes over the services, serializers and the OpenAPI document."""
