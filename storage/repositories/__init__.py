"""One repository per aggregate. Workspace-private ones take the workspace at construction."""
