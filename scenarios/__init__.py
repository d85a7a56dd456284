"""The bundled scenario files (``*.toml``), shipped inside the package as ``fer_avalanche.scenarios``.

Read them with :func:`fer_avalanche.config.bundled_scenarios` / ``load_scenario("demo")``, or run them
by name: ``fer-avalanche run paper``. Copy one to start your own.
"""
