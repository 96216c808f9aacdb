"""Application services the command line calls (above every layer of `pipeline.lib`)."""
