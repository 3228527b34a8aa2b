"""Stand-ins for the Wan API client the pipeline talks to (the `pipeline_api` fixture puts one
in its hands), and the answers they give."""

from generations import wan_api


class ScriptedClient:
    """Answers from a script and counts what was sent."""

    def __init__(self, submit=None, poll=None, download=None):
        self.submit_answers = list(submit or [])
        self.poll_answers = list(poll or [])
        self.download_answer = download
        self.submits = []
        self.polls = []

    def submit(self, params):
        self.submits.append(params)
        return self.submit_answers.pop(0)

    def task_result(self, task_id):
        self.polls.append(task_id)
        return self.poll_answers.pop(0)

    def download(self, url, dest, *, max_bytes):
        return self.download_answer(dest)


def accepted(task_id="task-1"):
    """The API's answer to a submit it took."""
    return wan_api.SubmitResult(wan_api.SubmitOutcome.ACCEPTED, task_id=task_id, http_status=200)


def task(status, **fields):
    """A poll answered: the task in status, with these fields of a TaskResult."""
    values = dict(
        task_id="task-1",
        status=status,
        raw_status="x",
        reason="",
        progress_percent=None,
        eta_seconds=None,
        videos=(),
        seed=None,
    )
    values.update(fields)
    return wan_api.PollResult(wan_api.PollOutcome.OK, task=wan_api.TaskResult(**values))
