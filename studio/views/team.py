"""Team switches for admins: resume submissions, the ledger."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from generations import costs
from generations.models import StudioState


@permission_required("generations.manage_studio", raise_exception=True)
@require_POST
def resume(request):
    StudioState.resume()
    messages.success(request, "Submissions resumed. Queued generations are being sent.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "studio:dashboard"
    return redirect(target)


@permission_required("generations.manage_studio", raise_exception=True)
@require_GET
def ledger(request):
    context = {"rows": costs.ledger(), "currency": settings.WAN_PRICE_CURRENCY}
    return render(request, "studio/ledger.html", context)
