"""cnai: China's AI regulatory regime as working software."""

__version__ = "0.1.0"
