"""What several test modules share and is not a fixture, one module per concept: pictures
made to order, the files `finished` stores, stand-ins for the API client and a scripted HTTP
server for the real one, requests to the simulator, moto's S3, a person's session with a
running studio, Chromium, the fault tables. Fixtures are in tests/conftest.py; a test module
imports from here, never from another test module."""

PASSWORD = "a-long-test-password"  # every test person's, in-process and in a live studio
