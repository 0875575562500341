"""The project's convnet on its digit images with a training recipe: a schedule, weight averaging
and a wider net with a third convolution take the test accuracy from 0.967 to 0.989.

    python -m trainer.main --config=examples/my_project/recipe.py \
        --workdir=/tmp/my_project_recipe --strategy=mirrored --num_cpu_devices=2

The recipe, against config.py (filters 16, 32, Dense 64, dropout 0.25; Adam at a constant 3e-3;
1,000 steps of 64; stopped at 0.99 validation accuracy):

- the same convnet builder, wider and one convolution deeper: filters 32, 64, 128 (8x8 -> 4x4 ->
  2x2), Dense 128, dropout 0.5;
- Adam, peak learning rate 3e-3, 100 steps of linear warmup from 0, then a cosine decay to 0 at
  the last step;
- 1,200 steps of 64 (about 61 epochs of the 1,257 train images), evaluated every 300;
- an exponential moving average of the weights (momentum 0.99), which evaluation and the
  exports use;
- no StopAtTarget action: the run goes to the end of its schedule.

Expected (2 replicas on a 2-core CPU, TF 2.21, Keras 3.15.1, seed 42): validation accuracy 0.983,
test accuracy 0.989 (4 of 359 wrong), in about 20 seconds. (Chosen before the input pipeline
permuted whole epochs: then validation 0.989, test 0.989; seeds 1 and 2: validation 0.983 /
0.989, test 0.992 / 0.989.) The validation split has 181 images (one is
0.0055) and the test split 359 (one is 0.0028): compare recipes over several seeds. The recipe
was chosen on validation among the ones listed in benchmarks/README.md ("Training recipes");
`python benchmarks/recipes.py` runs it and checks the test accuracy >= 0.985.

The warmup is a twelfth of config.train.steps (a reference), so a shortened run stays valid.
"""

import ml_collections

from examples.my_project import config as project


def get_config():
    config = project.get_config()  # The same data, splits, batch (64) and peak rate (3e-3).
    config.actions = ml_collections.ConfigDict()  # No StopAtTarget: train to the schedule's end.
    config.model.args.filters = (32, 64, 128)
    config.model.args.dense_units = 128
    config.model.args.dropout = 0.5
    config.train.steps = 1200
    config.train.ema_momentum = 0.99
    config.schedule.name = "cosine"
    config.schedule.warmup_steps = config.train.get_ref("steps") // 12  # 100 of 1,200.
    config.eval.every_steps = 300
    config.checkpoint.every_steps = 600
    return config
