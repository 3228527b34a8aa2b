"""Callbacks from the Wan API: a hint to poll now, never the result itself.

The API signs nothing, so the body is not even read. The secret token in the URL names one
generation; a known token only makes that generation due, and the dispatcher asks task-result
as it always does. A forged token costs one indexed lookup and no API request.
"""

import re

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from api.errors import detail
from generations.models import Generation

# secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


@csrf_exempt
@login_not_required
@require_POST
def wan_task_result(request, token):
    if TOKEN_SHAPE.fullmatch(token) and Generation.objects.poll_now_for_webhook(token):
        return HttpResponse(status=204)
    return detail(404, "No task waits for a callback at this address.")
