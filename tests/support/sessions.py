"""A person's session with a running studio, over plain HTTP."""

import requests

from . import PASSWORD


def logged_in_session(studio, username, password=PASSWORD, path="/login/"):
    """A requests session logged in through the form at `path`, as a browser would be."""
    session = requests.Session()
    session.get(studio.base_url + path, timeout=30)
    session.post(
        studio.base_url + path,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": studio.base_url + path},
        timeout=30,
    )
    return session
