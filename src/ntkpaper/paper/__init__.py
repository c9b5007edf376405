"""From numbers to the paper: claims decided against their margins (claims), the LaTeX
macros, scorecard and tables (macros), and the HTML report's texts (html_report).
Imports no JAX and no matplotlib."""
