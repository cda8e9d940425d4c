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
        Continue training the fitted model on the next ``fit`` call
        (``partial_fit`` always continues it).
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
        The optimiser (kept for ``warm_start`` and ``partial_fit``).
    weighting_ : WeightingStrategy
        The fitted clone of ``weighting``.
    target_layout_ : TargetLayout
        How Y was given (array, DataFrame or dict, and its columns).
    n_iter_ : int
        Epochs run in the last ``fit`` (1 after ``partial_fit``).
    best_epoch_ : int or None
        Epoch whose weights were restored by early stopping.

"""

#: The docstring of ``partial_fit`` up to its Examples; ``{first}`` is the
#: estimator's own paragraph on what the first call fixes.
PARTIAL_FIT_DOC = """Train on one chunk of data: one pass (epoch) over it, continuing the model.

        For data larger than memory, or arriving over time (and for
        :class:`dask_ml.wrappers.Incremental`, which calls it once per block of
        a dask array). Each call runs one epoch of the training loop over the
        chunk ``(X, y)`` with the estimator's optimiser settings, continuing the
        network and the AdamW state of the fitted model (a model fitted by
        ``fit`` too, whatever ``warm_start``); ``history_`` grows by one record
        per call. ``max_epochs``, ``early_stopping``, ``validation_fraction``
        and ``n_iter_no_change`` do not apply: there is no validation split
        (score a held-out chunk yourself).

{first}
        Parameters
        ----------
{x_doc}        y : {y_type}
            The chunk's targets, in the layout of the first call (the same
            columns or keys). NaN, None or pd.NA mark a missing label, as in
            ``fit``: they are data, and a chunk may hold no label of a task.
        classes : array-like, list of array-like or dict, default=None
            The labels of every classification task: required on the first
            call (a chunk need not show every label), and afterwards either
            omitted or equal to the first call's.
{classes_layout}
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Per-row weights of the chunk, shared by all tasks or given per task.

        Returns
        -------
        self : object
            The estimator. A call that fails (a ValueError for a label outside
            the declared classes, naming the task, the row of the chunk and the
            label; for a chunk with another number of features; ...) leaves
            the model as it was.

        Notes
        -----
        A task's type is inferred from the first chunk together with its
        declared classes, or set with ``tasks``. Set it there when the first
        chunk cannot show it: a task without a labelled row in the first
        chunk is taken as single-label (binary or multiclass) from its
        classes, so a multilabel{token} task needs ``tasks`` then.

        A continuous task is standardised (see ``fit``) with the mean and
        standard deviation of its labelled values in the first chunk, kept
        fixed afterwards: the first chunk must hold some of its values, and
        should be representative (shuffle the rows). ``class_weight="balanced"``
        is refused, as by scikit-learn's ``SGDClassifier.partial_fit``: each
        chunk would weigh the classes differently; pass ``{{label: weight}}``
        dicts computed once. ``weight_averaging`` averages the weights within
        each call. With an int ``random_state`` a sequence of calls is
        reproducible: the first call draws as ``fit`` does (one call over all
        the data equals ``fit`` with ``max_epochs=1``), each later one from
        ``random_state`` and the number of epochs so far. ``fit`` after
        ``partial_fit`` starts over unless ``warm_start=True``.
"""

PARTIAL_FIT_PARTS = {
    "x_feature": """\
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or list of str
            The chunk's inputs: a numeric matrix with the features of the first
            call (the same number, and names if it had them), or raw texts for
            a model with an ``encoder``.
""",
    "x_tagger": """\
        X : list of list of str, or list of str
            The chunk's sentences: token lists, or raw strings tokenized by the
            encoder.
""",
    "first_feature": """\
        The first call (on an unfitted model) fixes what ``fit`` learns from
        the data: the number of features (the shared layers' input width), the
        tasks, their types and label spaces (from ``classes``) and the
        standardisation of the continuous tasks. With an ``encoder`` there is
        no vocabulary to fix: :class:`~skmtl.encoders.TextEncoder` hashes
        every token's attributes (spaCy's ``HashEmbed`` scheme), so a word
        first seen in a later chunk (or at predict time) gets its hashed rows
        like any other; its settings (``n_rows``, ``attrs``) stay those of the
        first call. That makes it the encoder for streamed text.
""",
    "first_tagger": """\
        The first call (on an unfitted model) fixes the tasks, their levels and
        tag sets (from ``classes``: every tag of a token task, every label of a
        document task) and the standardisation of continuous document tasks;
        a token task's fallback tag for tokens cut by the encoder's
        ``max_length`` is the first chunk's most frequent one. The encoder
        hashes tokens (no vocabulary), so words unseen in the first chunk are
        encoded like any other.
""",
    "classes_feature": """\
            For a 1-D y: an array of its labels. For a 2-D Y (or a DataFrame):
            a list with one array per column, in order (None for a continuous
            column), as :class:`~sklearn.multioutput.MultiOutputClassifier`
            takes them. Or a dict ``{task: labels}``. A multilabel task's entry
            lists its labels; a continuous task takes none.
""",
    "classes_tagger": """\
            A dict ``{task: labels}`` (or a list with one entry per column of
            Y): a token task's tag set (for IOB2 tags every ``O``, ``B-X`` and
            ``I-X``), a document task's labels; a continuous task takes none.
""",
}


def partial_fit_doc(kind: str, examples: str) -> str:
    """The ``partial_fit`` docstring of a feature-based estimator or the tagger."""
    feature = kind == "feature"
    return (
        PARTIAL_FIT_DOC.replace("{first}", PARTIAL_FIT_PARTS[f"first_{kind}"])
        .replace("{x_doc}", PARTIAL_FIT_PARTS[f"x_{kind}"])
        .replace(
            "{y_type}",
            "array-like of shape (n_samples,) or (n_samples, n_tasks), DataFrame or dict"
            if feature
            else "DataFrame or dict",
        )
        .replace("{classes_layout}\n", PARTIAL_FIT_PARTS[f"classes_{kind}"])
        .replace("{token}", "" if feature else " or token")
        .replace("{{", "{")
        .replace("}}", "}")
        + examples
    )
