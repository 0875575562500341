"""Projects that use the harness from outside its packages (see examples/my_project)."""
