"""A simulated Localite TMS Navigator serving its JSON interface on TCP
(``python -m devices.localite.sim``)."""
