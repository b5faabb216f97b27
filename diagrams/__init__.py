"""
Renderings of httpchart's declared charts, derived from the declarations and
never drawn by hand.
"""

from .table import markdown_table

__all__ = ["markdown_table"]
