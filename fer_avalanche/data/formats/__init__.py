"""One module per on-disk dataset format; each registers its loader with
:func:`fer_avalanche.data.registry.register_format`."""
