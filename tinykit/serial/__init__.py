"""Talk to a board over serial: the tinykit framed protocol (``protocol``,
``client``), the MLPerf Tiny text protocol (``eembc``) and the ``run`` verb."""
