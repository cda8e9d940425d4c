"""numpydoc fragments shared by the public estimators' docstrings."""

PARAMS_DOC = {}
PARAMS_DOC["shared"] = """\
    encoder : object, default=None
        None: X is a numeric matrix (dense or sparse). Or a text encoder
        such as :class:`skmtl.encoders.TextEncoder`: X is then a list of raw
        strings, tokenized by the encoder and encoded by its network, which
        is trained end to end with the rest of the model.
    hidden_layer_sizes : tuple of int, default=(128,)
        Widths of the shared layers. The first layer reads sparse X
        directly (an embedding-bag product), so TF-IDF input is never
        densified. With an ``encoder`` these layers sit on top of it and may
        be empty.
    activation : {"relu", "gelu", "tanh", "identity"}, default="relu"
        Activation of shared and head hidden layers.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    normalization : {None, "layer", "batch"}, default=None
        Normalisation after each shared layer.
    head_hidden_layer_sizes : tuple of int, default=()
        Private hidden layers of each task head.
{tasks}    task_weights : dict or sequence of float, default=None
        Static weight of each task's loss (None: all 1). Tunable per task in
        a grid search as ``task_weights__<task>``.
        With ``weighting=WeightConditioned()`` they act after fit instead: the
        one fitted network serves the weighting they name, and
        ``set_params(task_weights=...)`` on the fitted model changes its
        predictions without refitting (the only parameter that acts after fit
        for such a model).
    weighting : WeightingStrategy, default=None
        How task losses are combined (None: :class:`~skmtl.weighting.EqualWeighting`).
    architecture : Architecture, default=None
        How the tasks share the hidden layers (None:
        :class:`~skmtl.architectures.HardSharing`): e.g.
        :class:`~skmtl.architectures.MMoE`, :class:`~skmtl.architectures.PLE`,
        :class:`~skmtl.architectures.CrossStitch` or
        :class:`~skmtl.architectures.Hierarchical`; its parameters are
        searchable as ``architecture__<param>``.
    task_sampling : None, str or TaskSampler, default=None
        How often each task's rows are drawn per epoch (:mod:`skmtl.sampling`):
        None (every row once), "proportional", "uniform", "temperature",
        "annealed" or a sampler object (``task_sampling__<param>``).
"""
#: The ``tasks`` entry of each estimator (``PARAMS_DOC["shared"]`` holds ``{tasks}``).
PARAMS_DOC["tasks"] = {
    "classifier": """\
    tasks : dict, default=None
        Override inferred task types: ``{task: "binary" | "multiclass" |
        "multilabel"}``. Inference uses :func:`sklearn.utils.multiclass.type_of_target`
        on the labelled cells; a column whose cells are lists/sets of labels is
        multilabel. Integer labels in a float column (NaN for the missing cells)
        keep integer classes and predictions.
""",
    "regressor": """\
    tasks : dict, default=None
        Every task is ``"continuous"``; ``tasks`` groups several columns into
        one multi-output task: ``{task: {"type": "continuous", "columns":
        [...]}}``.
""",
    "estimator": """\
    tasks : dict, default=None
        Override inferred task types: ``{task: "binary" | "multiclass" |
        "multilabel" | "continuous"}``, or ``{task: {"type": "continuous",
        "columns": [...]}}`` to group several columns into one multi-output
        task. Inference uses :func:`sklearn.utils.multiclass.type_of_target` on
        the labelled cells (a float column with non-integral values is
        continuous); a column whose cells are lists/sets of labels is multilabel.
""",
}
PARAMS_DOC["classification"] = """\
    threshold : float or dict, default=0.5
        Decision threshold of multilabel tasks: one float, or a dict by task
        of a float or a per-label array. Applied at predict time, so tuning it
        needs no refit; searchable as ``threshold__<task>``.
    min_labels : int or dict, default=0
        Multilabel tasks: every prediction has at least this many labels (a row
        with fewer over the threshold gets its most probable labels); 0: the
        threshold alone decides, and a row may get the empty set. One int, or a
        dict by task; searchable as ``min_labels__<task>``. ``predict`` warns
        when a task's every prediction is the empty set.
    class_weight : None, "balanced" or dict, default=None
        Per-task class weights: "balanced" for every task, or a dict by task
        of None / "balanced" / ``{label: weight}``. For multilabel tasks the
        weights scale the positive term of each label (``pos_weight``).
"""
PARAMS_DOC["training"] = """\
    learning_rate : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    batch_size : int, default=128
        Mini-batch size.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the mean
        validation score has not improved by ``tol`` for ``n_iter_no_change``
        epochs; the best epoch's weights are restored. ``fit(...,
        validation_rows=...)`` names the validation rows instead (a dev split).
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation score.
    weight_averaging : float, default=0.0
        Decay of an exponential moving average of the weights, updated after
        every step (0: off), with a warm-up; the averaged weights are the ones
        validated (early stopping) and kept at the end of fit.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split;
        an int gives identical results run to run on CPU.
    verbose : int, default=0
        Progress of ``fit`` and ``predict``. 0: silent. 1: a progress bar over
        the epochs (tqdm: on stderr, a widget in a notebook) showing the
        training loss, each task's loss and the validation score, and one
        printed line per epoch on stdout. 2: also a bar over each epoch's
        batches with each task's running loss, and a bar over the batches of
        any prediction of two or more batches (at 1, only of a prediction of
        more than 20 batches).
    warm_start : bool, default=False
        Continue training the fitted model on the next ``fit`` call.
    record_gradients : bool, default=False
        Record gradient diagnostics in ``history_``: after each epoch's
        updates, each task's loss on a fixed probe batch (the first
        ``batch_size`` training rows) is differentiated with respect to the
        shared (trunk) parameters, with the network in eval mode (no
        dropout, frozen batch-norm statistics). The epoch's record gets
        ``grad_norm`` (``{task: L2 norm}``) and ``grad_cosine``
        (``{"a|b": cosine similarity}`` for each pair of tasks; NaN when a
        task has no labelled row in the probe). The gradients are computed
        with ``torch.autograd.grad`` and discarded: training is unchanged.
        Costs one forward and one backward pass per task per epoch.
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"
        Where to train and predict.

"""
PARAMS_DOC["attributes"] = """\
    Attributes
    ----------
    tasks_ : dict of str to Task
        Each task's name, type, classes and columns, in order.
    classes_ : ndarray or list of ndarray
        Labels of each task (an array when Y was 1-D).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of str
        Feature names, when X had string column names.
    history_ : History
        One dict per epoch: ``train_loss``, ``task_loss``, ``task_weight``
        (each task's mean effective weight over the batches where it had
        labels) and, with early stopping, ``valid_score`` and
        ``task_valid_score``; slice it as ``history_[:, "train_loss"]``.
    module_ : torch.nn.Module
        The trained :class:`~skmtl.engine.MultiTaskNetwork`.
    optimizer_ : torch.optim.AdamW
        The optimiser (kept for ``warm_start``).
    weighting_ : WeightingStrategy
        The fitted clone of ``weighting``.
    target_layout_ : TargetLayout
        How Y was given (array, DataFrame or dict, and its columns).
    n_iter_ : int
        Epochs run in the last ``fit``.
    best_epoch_ : int or None
        Epoch whose weights were restored by early stopping.

"""
