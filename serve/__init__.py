"""The edge: the FastAPI app on Ray Serve, its routes and the ``campaign-manager`` CLI."""
