"""The command lines of ``tools/*.py``: one module per tool, each with
``build_parser()`` (argparse only) and ``main(argv=None)`` (parse, call the
package, turn its refusals into ``error: ...`` and an exit status).

The work itself lives in the package (see each module's docstring); this
package imports nothing when imported.
"""
