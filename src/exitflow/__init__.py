"""ExitFlow model toolkit: multi-exit models for the streaming runtime (train, evaluate, export bundles)."""

__version__ = "0.1.0"
