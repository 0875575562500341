"""build_optimizer and exclude_weight_decay: config.train's options reach the Keras optimizer,
and every bad input is a one-line HarnessError that names the field."""

from tests.support.helpers import assert_one_line_error, train


def test_two_clip_options_on_the_command_line_are_one_error_line(workdir):
    assert_one_line_error(
        train(f"--workdir={workdir}", "--config.train.clipnorm=1", "--config.train.clipvalue=1"),
        "Set at most one of config.train.clipnorm, global_clipnorm and clipvalue",
    )
