"""The team page: admins add people, change their role, set their monthly budget, deactivate
and reactivate them (never delete: their work and ledger stay).

Every change is a POST. Bad input renders the page again with the error beside the field,
as a 400."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from generations import costs, roles
from studio.forms import ActiveForm, BudgetForm, PersonForm, RoleForm

can_manage = permission_required("generations.manage_studio", raise_exception=True)


@dataclass
class PersonRow:
    person: object
    role: str | None
    spent: object
    limit: object
    forms: dict


def row_forms(person, acting, data=None):
    """The forms of one person's row; ids carry the person so the page's ids stay unique."""
    ids = f"person-{person.pk}-%s"
    budget = getattr(person, "budget", None)
    return {
        "role": RoleForm(
            data, person=person, acting=acting, auto_id=ids, initial={"role": roles.role_of(person)}
        ),
        "budget": BudgetForm(
            data,
            person=person,
            auto_id=ids,
            initial={"monthly_limit": budget and budget.monthly_limit},
        ),
        # The button asks for the other state.
        "active": ActiveForm(
            data,
            person=person,
            acting=acting,
            auto_id=ids,
            initial={"active": "0" if person.is_active else "1"},
        ),
    }


def team_page(request, new_person, refused=None):
    """The page; refused is (person's pk, form kind, bound form) after bad input."""
    people = (
        get_user_model()
        .objects.select_related("budget")
        .prefetch_related("groups")
        .order_by("-is_active", "username")
    )
    spend = costs.monthly_spend_by_person()
    rows = []
    for person in people:
        forms = row_forms(person, request.user)
        if refused and refused[0] == person.pk:
            forms[refused[1]] = refused[2]
        budget = getattr(person, "budget", None)
        rows.append(
            PersonRow(
                person,
                roles.role_of(person),
                spend.get(person.pk, 0),
                budget and budget.monthly_limit,
                forms,
            )
        )
    context = {"rows": rows, "new_person": new_person, "currency": settings.WAN_PRICE_CURRENCY}
    status = 400 if new_person.errors or refused else 200
    return render(request, "studio/team.html", context, status=status)


@can_manage
def team(request):
    form = PersonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        person = form.save()
        messages.success(
            request, f"{person} can log in now, with the role {form.cleaned_data['role']}."
        )
        return redirect(anchor(person))
    return team_page(request, form)


@can_manage
@require_POST
def change_person(request, pk, kind):
    """Change one thing about a person: kind is "role", "budget" or "active"."""
    person = get_object_or_404(get_user_model(), pk=pk)
    form = row_forms(person, request.user, request.POST)[kind]
    if not form.is_valid():
        return team_page(request, PersonForm(), refused=(person.pk, kind, form))
    form.save()
    messages.success(request, form.done_message())
    return redirect(anchor(person))


def anchor(person):
    return f"{reverse('studio:team')}#person-{person.pk}"
