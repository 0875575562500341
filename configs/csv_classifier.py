"""Classes from a table: any CSV whose label column holds classes (text or integers).

    python -m trainer.main --config=configs/csv_classifier.py \
        --config.data.args.path=my_table.csv --config.data.args.label=diagnosis

Every other column is a numeric feature (choose them with config.data.args.features); an MLP
on standardized features with a softmax over the train split's classes, in sorted order.
The SavedModel's `serve` returns the class names next to the probabilities. scikit-learn's
breast-cancer table with text labels (benign / malignant) reaches a test accuracy of about 0.97
under 2 workers (benchmarks/README.md, "Users' data").
"""

from configs import base


def get_config():
    config = base.get_config(model="mlp", data="csv")
    config.data.args.path = ""  # Required: the CSV file (local or gs://).
    config.data.args.label = "label"
    config.data.args.task = "classification"
    config.model.args.hidden_units = (64, 32)
    config.model.args.normalize = True
    config.train.global_batch_size = 32
    config.train.steps = 600
    config.train.learning_rate = 1e-3
    config.eval.every_steps = 200
    config.checkpoint.every_steps = 200
    return config
