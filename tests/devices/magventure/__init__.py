"""MagVenture MagPro: codec, simulator, adapter and the public magicpy client against them."""
