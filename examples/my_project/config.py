"""The project's experiment: its convnet on its digit images, stopped early by its own action.

    python -m trainer.main --config=examples/my_project/config.py --workdir=/tmp/my_project

The model with hand-written train_step / test_step takes the same arguments:

    python -m trainer.main --config=examples/my_project/config.py \
        --config.model.name=examples.my_project.models:CustomStepConvNet

Reaches about 0.97 test accuracy in 1,000 steps of 64 on a CPU (the action stops it earlier if
validation accuracy reaches 0.99).
"""

import ml_collections

from configs import base


def get_config():
    config = base.get_config(
        model="examples.my_project.models:convnet", data="examples.my_project.data:digit_images"
    )
    config.data.num_classes = 10  # A data function cannot say how many classes it has.
    config.model.args.filters = (16, 32)
    config.train.global_batch_size = 64
    config.train.steps = 1000
    config.train.steps_per_loop = 50
    config.train.learning_rate = 3e-3
    config.eval.every_steps = 200
    config.eval.global_batch_size = 64  # The last batch of each split is partial.
    config.checkpoint.every_steps = 200
    config.actions = ml_collections.ConfigDict(
        {
            "stop_at_target": {
                "action": "examples.my_project.actions:StopAtTarget",
                "metric": "accuracy",
                "target": 0.99,
            }
        }
    )
    return config
