"""Metering outside the request path: usage that no service function sees (the usage plans'
429s, from the API stages' access logs on AWS).

A uniquely named package under the namespace ``chalicelib``, like ``control_plane``.
"""
