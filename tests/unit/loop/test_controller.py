"""The Controller with a stand-in loop: host loops end at every action's interval, actions run in
order with the state, and a stop request ends the run after that host loop."""

import pytest

from trainer.loop.controller import Controller, RunState, Scheduled


class StandInLoop:
    def __init__(self):
        self.step, self.calls = 0, []

    def __call__(self, steps: int) -> dict[str, float]:
        self.calls.append(steps)
        self.step += steps
        return {"loss": 1.0 / self.step}


def _controller(loop, actions=(), start=0, total=23, per_loop=10, agree=None):
    return Controller(
        train=loop,
        start_step=start,
        total_steps=total,
        steps_per_loop=per_loop,
        global_batch_size=4,
        actions=actions,
        **({"agree": agree} if agree else {}),
    )


def test_host_loops_end_at_each_interval_and_at_exactly_the_last_step():
    loop, seen = StandInLoop(), []
    every_7 = Scheduled(lambda state: seen.append(("every 7", state.step)), every_steps=7)
    each = Scheduled(lambda state: seen.append(("each", state.step)))
    last = _controller(loop, [every_7, each]).run()
    assert loop.calls == [7, 7, 7, 2]  # Stops at 7, 14, 21 (before step + 10), then 23.
    assert [s for name, s in seen if name == "every 7"] == [7, 14, 21]
    assert [s for name, s in seen if name == "each"] == [7, 14, 21, 23]
    assert last.step == 23 and last.train == {"loss": pytest.approx(1 / 23)}
    assert last.stop_reason is None


def test_actions_see_the_state_in_order_and_later_ones_see_validation():
    order = []

    def evaluate(state: RunState):
        order.append("evaluate")
        state.set_validation({"accuracy": state.step / 100})

    def user(state: RunState):
        order.append(("user", state.validation, state.latest_validation))

    _controller(StandInLoop(), [Scheduled(evaluate, 10), Scheduled(user)], total=15).run()
    assert order == [
        "evaluate",
        ("user", {"accuracy": 0.1}, (10, {"accuracy": 0.1})),
        ("user", None, (10, {"accuracy": 0.1})),  # Step 15: no new evaluation, the latest kept.
    ]


def test_a_stop_request_ends_training_after_that_host_loop():
    loop = StandInLoop()

    def stop_at_20(state: RunState):
        if state.step >= 20:
            state.request_stop("enough")

    last = _controller(loop, [Scheduled(stop_at_20)], total=100).run()
    assert loop.step == 20 and last.stop_reason == "enough"


def test_the_agreement_makes_one_workers_request_everyones():
    loop = StandInLoop()
    last = _controller(loop, total=100, agree=lambda mine: loop.step >= 30).run()
    assert loop.step == 30 and last.stop_reason == "another worker asked to stop"


def test_a_resumed_run_starts_at_its_step_and_a_finished_one_trains_nothing():
    loop = StandInLoop()
    loop.step = 15
    _controller(loop, start=15, total=23).run()
    assert loop.calls == [8]
    assert _controller(StandInLoop(), start=23, total=23).run() is None


def test_an_action_error_propagates_and_later_actions_do_not_run():
    ran = []

    def broken(state):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _controller(StandInLoop(), [Scheduled(broken), Scheduled(ran.append)]).run()
    assert ran == []


def test_a_rollback_ends_that_loops_actions_and_training_goes_on_from_its_step():
    loop, after = StandInLoop(), []
    rolled = []

    def roll_back_once(state: RunState):
        if state.step == 20 and not rolled:
            rolled.append(state.step)
            loop.step = 10  # What restoring the step-10 checkpoint does to the variables.
            state.roll_back(10)

    last = _controller(
        loop, [Scheduled(roll_back_once), Scheduled(lambda s: after.append(s.step))], total=30
    ).run()
    assert loop.calls == [10, 10, 10, 10]  # 0-10, 10-20 (rolled back to 10), 10-20, 20-30.
    assert after == [10, 20, 30]  # Not at the loop that rolled back.
    assert last.step == 30


def test_host_loops_also_end_at_an_actions_stops():
    loop, seen = StandInLoop(), []
    window = Scheduled(lambda state: seen.append(state.step), stops=(13, 17))
    _controller(loop, [window], total=30).run()
    assert loop.calls == [10, 3, 4, 10, 3]  # 10, 13, 17, 27, 30.
    assert seen == [10, 13, 17, 27, 30]


def test_an_action_with_an_interval_is_also_due_at_its_stops():
    loop, seen = StandInLoop(), []
    every_10_and_last = Scheduled(lambda state: seen.append(state.step), 10, stops=(23,))
    _controller(loop, [every_10_and_last], total=23).run()
    assert loop.calls == [10, 10, 3]
    assert seen == [10, 20, 23]
