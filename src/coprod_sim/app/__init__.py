"""The students' browser app: a Solara page (``page``) over one model per tab (``session``),
with matplotlib pictures (``figures``); ``launcher`` starts it offline (``coprod-sim viz``).

Importing this package imports nothing heavy: Solara and the model load only in the app's server.
"""
