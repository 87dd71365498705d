"""Surfaces: each wire protocol is a thin translator from its format to the call use case and back.

``http`` holds what every HTTP surface reads the same way (credentials, client address, routing
hints) and writes the same way (the ``x-routeiq-*`` outcome headers); ``openai`` is the OpenAI API.
"""
