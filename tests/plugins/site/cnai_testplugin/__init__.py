"""An outside plug-in package used by the tests: it registers extra features on cnai's extension points
through its own entry points (cnai_testplugin-0.1.dist-info/entry_points.txt), with no edit to cnai.
Tests put tests/plugins/site on PYTHONPATH (or sys.path) to install it."""
