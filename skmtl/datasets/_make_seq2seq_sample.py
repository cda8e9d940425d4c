"""Generate the small sequence-to-sequence corpus shipped in ``data/seq2seq/``.

The corpus is of skmtl's own making (BSD-3-Clause, like the package): no
sentence is taken from a third-party data set. Usage::

    python -m skmtl.datasets._make_seq2seq_sample [--out DIR]

It writes ``train.tsv`` and ``test.tsv`` (default: the package's
``data/seq2seq/``) with columns ``text``, ``de``, ``fr`` and ``subject``; an
empty cell is a missing target. Two kinds of rows:

- *Translation rows* (English -> German and French; ``subject`` empty). Each
  sentence is built from a small hand-written lexicon and a few templates:
  subject + verb, subject + verb + object, or subject + "gives/shows" + object
  + "to" + recipient, optionally with a fixed prepositional phrase ("in the
  park" / "im Park" / "dans le parc"). Noun phrases have a determiner ("a",
  "the", "two", "three") and up to two adjectives. German articles and
  adjective endings follow gender, number and case (nominative, accusative,
  dative; weak nouns such as "Junge" are declined); French articles and
  adjectives agree in gender and number, with elision ("l'homme"), the
  contractions "au"/"aux", the forms "vieil"/"nouvel" and the usual adjective
  positions (size and age before the noun, colour after it).
- *Email rows* (English email body -> English subject line; ``de`` and ``fr``
  empty): 2-4 sentence bodies about meetings, reports, deadlines, system
  maintenance, new colleagues and the like, with a short lowercase subject line
  derived from the same content ("budget meeting moved to friday").

Everything is drawn from ``numpy.random.default_rng(SEED)``, so the output is
deterministic: ``tests/test_datasets_seq2seq.py`` regenerates it and compares
the bytes with the shipped files. Rows are unique and no English text occurs
in both splits.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SEED = 0
#: (translation rows, email rows) per split.
SIZES = {"train": (1200, 600), "test": (150, 75)}
COLUMNS = ("text", "de", "fr", "subject")


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


# --------------------------------------------------------------------------- #
# Lexicon
# --------------------------------------------------------------------------- #
# Adjectives: English, German stem, French (m.sg, f.sg, m.pl, f.pl), French
# position ("pre" before the noun, "post" after it), kind ("size"/"age" come
# before "color" in English and German).
ADJECTIVES = {
    "red": ("red", "rot", ("rouge", "rouge", "rouges", "rouges"), "post", "color"),
    "blue": ("blue", "blau", ("bleu", "bleue", "bleus", "bleues"), "post", "color"),
    "green": ("green", "grün", ("vert", "verte", "verts", "vertes"), "post", "color"),
    "yellow": ("yellow", "gelb", ("jaune", "jaune", "jaunes", "jaunes"), "post", "color"),
    "black": ("black", "schwarz", ("noir", "noire", "noirs", "noires"), "post", "color"),
    "white": ("white", "weiß", ("blanc", "blanche", "blancs", "blanches"), "post", "color"),
    "brown": ("brown", "braun", ("brun", "brune", "bruns", "brunes"), "post", "color"),
    "small": ("small", "klein", ("petit", "petite", "petits", "petites"), "pre", "size"),
    "big": ("big", "groß", ("grand", "grande", "grands", "grandes"), "pre", "size"),
    "young": ("young", "jung", ("jeune", "jeune", "jeunes", "jeunes"), "pre", "age"),
    "old": ("old", "alt", ("vieux", "vieille", "vieux", "vieilles"), "pre", "age"),
    "new": ("new", "neu", ("nouveau", "nouvelle", "nouveaux", "nouvelles"), "pre", "age"),
}
#: French masculine singular forms used before a vowel ("un vieil homme").
FR_BEFORE_VOWEL = {"vieux": "vieil", "nouveau": "nouvel"}


def _noun(en, en_pl, de_g, de, de_pl, fr_g, fr, fr_pl, kind, adjs, de_obl=None):
    """A noun entry; ``de_obl`` is the accusative/dative singular of a weak noun."""
    return {
        "en": (en, en_pl),
        "de_g": de_g,
        "de": (de, de_pl),
        "de_obl": de_obl or de,
        "fr_g": fr_g,
        "fr": (fr, fr_pl),
        "kind": kind,
        "adjs": tuple(adjs.split()),
    }


NOUNS = {
    # people
    "man": _noun("man", "men", "m", "Mann", "Männer", "m", "homme", "hommes", "person",
                 "young old"),
    "woman": _noun("woman", "women", "f", "Frau", "Frauen", "f", "femme", "femmes", "person",
                   "young old"),
    "boy": _noun("boy", "boys", "m", "Junge", "Jungen", "m", "garçon", "garçons", "person",
                 "small", de_obl="Jungen"),
    "girl": _noun("girl", "girls", "n", "Mädchen", "Mädchen", "f", "fille", "filles", "person",
                  "small young"),
    "child": _noun("child", "children", "n", "Kind", "Kinder", "m", "enfant", "enfants", "person",
                   "small"),
    "student": _noun("student", "students", "m", "Student", "Studenten", "m", "étudiant",
                     "étudiants", "person", "young", de_obl="Studenten"),
    "teacher": _noun("teacher", "teachers", "m", "Lehrer", "Lehrer", "m", "enseignant",
                     "enseignants", "person", "young old"),
    "doctor": _noun("doctor", "doctors", "m", "Arzt", "Ärzte", "m", "médecin", "médecins",
                    "person", "young old"),
    # animals
    "dog": _noun("dog", "dogs", "m", "Hund", "Hunde", "m", "chien", "chiens", "animal",
                 "small big young old black white brown"),
    "cat": _noun("cat", "cats", "f", "Katze", "Katzen", "m", "chat", "chats", "animal",
                 "small big young old black white"),
    "horse": _noun("horse", "horses", "n", "Pferd", "Pferde", "m", "cheval", "chevaux", "animal",
                   "big young old black white brown"),
    "bird": _noun("bird", "birds", "m", "Vogel", "Vögel", "m", "oiseau", "oiseaux", "animal",
                  "small red blue yellow black"),
    # things
    "bicycle": _noun("bicycle", "bicycles", "n", "Fahrrad", "Fahrräder", "m", "vélo", "vélos",
                     "thing", "red blue green black old new small"),
    "motorcycle": _noun("motorcycle", "motorcycles", "n", "Motorrad", "Motorräder", "f", "moto",
                        "motos", "thing", "red black old new big"),
    "car": _noun("car", "cars", "n", "Auto", "Autos", "f", "voiture", "voitures", "thing",
                 "red blue black white old new small big"),
    "bus": _noun("bus", "buses", "m", "Bus", "Busse", "m", "bus", "bus", "thing",
                 "yellow red old big"),
    "truck": _noun("truck", "trucks", "m", "Lastwagen", "Lastwagen", "m", "camion", "camions",
                   "thing", "red white old big"),
    "book": _noun("book", "books", "n", "Buch", "Bücher", "m", "livre", "livres", "thing",
                  "red blue green old new small"),
    "newspaper": _noun("newspaper", "newspapers", "f", "Zeitung", "Zeitungen", "m", "journal",
                       "journaux", "thing", "old"),
    "letter": _noun("letter", "letters", "m", "Brief", "Briefe", "f", "lettre", "lettres", "thing",
                    "old"),
    "apple": _noun("apple", "apples", "m", "Apfel", "Äpfel", "f", "pomme", "pommes", "thing",
                   "red green yellow small"),
    "cake": _noun("cake", "cakes", "m", "Kuchen", "Kuchen", "m", "gâteau", "gâteaux", "thing",
                  "small big"),
    "sandwich": _noun("sandwich", "sandwiches", "n", "Sandwich", "Sandwiches", "m", "sandwich",
                      "sandwichs", "thing", "small"),
    "ball": _noun("ball", "balls", "m", "Ball", "Bälle", "m", "ballon", "ballons", "thing",
                  "red blue yellow white small big new"),
    "umbrella": _noun("umbrella", "umbrellas", "m", "Regenschirm", "Regenschirme", "m",
                      "parapluie", "parapluies", "thing", "red blue black yellow big new old"),
    "cup": _noun("cup", "cups", "f", "Tasse", "Tassen", "f", "tasse", "tasses", "thing",
                 "white blue red small big"),
    "bag": _noun("bag", "bags", "f", "Tasche", "Taschen", "m", "sac", "sacs", "thing",
                 "red black blue big small old new"),
    "box": _noun("box", "boxes", "f", "Kiste", "Kisten", "f", "boîte", "boîtes", "thing",
                 "big small old white"),
    "hat": _noun("hat", "hats", "m", "Hut", "Hüte", "m", "chapeau", "chapeaux", "thing",
                 "red black blue yellow green white old new big"),
    "jacket": _noun("jacket", "jackets", "f", "Jacke", "Jacken", "f", "veste", "vestes", "thing",
                    "red blue black green yellow white old new"),
    "shirt": _noun("shirt", "shirts", "n", "Hemd", "Hemden", "f", "chemise", "chemises", "thing",
                   "white blue red green yellow black old new"),
    "guitar": _noun("guitar", "guitars", "f", "Gitarre", "Gitarren", "f", "guitare", "guitares",
                    "thing", "red black old new"),
    "flower": _noun("flower", "flowers", "f", "Blume", "Blumen", "f", "fleur", "fleurs", "thing",
                    "red yellow white blue small big"),
    "picture": _noun("picture", "pictures", "n", "Bild", "Bilder", "m", "tableau", "tableaux",
                     "thing", "small big old new"),
    "stroller": _noun("stroller", "strollers", "m", "Kinderwagen", "Kinderwagen", "f",
                      "poussette", "poussettes", "thing", "blue red black old new"),
}  # fmt: skip

PEOPLE = ("man", "woman", "boy", "girl", "child", "student", "teacher", "doctor")
ANIMALS = ("dog", "cat", "horse", "bird")

# Prepositional phrases (fixed): English, German, French.
PPS = {
    "park": ("in the park", "im Park", "dans le parc"),
    "garden": ("in the garden", "im Garten", "dans le jardin"),
    "kitchen": ("in the kitchen", "in der Küche", "dans la cuisine"),
    "living": ("in the living room", "im Wohnzimmer", "dans le salon"),
    "street": ("on the street", "auf der Straße", "dans la rue"),
    "city": ("in the city", "in der Stadt", "en ville"),
    "beach": ("on the beach", "am Strand", "sur la plage"),
    "snow": ("in the snow", "im Schnee", "dans la neige"),
    "bridge": ("on the bridge", "auf der Brücke", "sur le pont"),
    "station": ("at the station", "am Bahnhof", "à la gare"),
    "market": ("at the market", "auf dem Markt", "au marché"),
    "house": ("in front of the house", "vor dem Haus", "devant la maison"),
    "by_tree": ("next to the tree", "neben dem Baum", "à côté de l'arbre"),
    "in_tree": ("in the tree", "im Baum", "dans l'arbre"),
    "riverside": ("by the river", "am Fluss", "au bord de la rivière"),
    "lake": ("in the lake", "im See", "dans le lac"),
    "river": ("in the river", "im Fluss", "dans la rivière"),
    "sea": ("in the sea", "im Meer", "dans la mer"),
}


def _verb(en, de, fr, subjects, objects=(), pps=(), plural_obj=False, recipients=(), obj_adjs=True):
    """A verb entry: (3sg, plural) forms per language, allowed nouns and PPs."""
    return {
        "obj_adjs": obj_adjs,
        "en": tuple(en.split("/")),
        "de": tuple(de.split("/")),
        "fr": tuple(fr.split("/")),
        "subjects": tuple(subjects.split()) if isinstance(subjects, str) else subjects,
        "objects": tuple(objects.split()) if isinstance(objects, str) else objects,
        "recipients": tuple(recipients.split()) if isinstance(recipients, str) else recipients,
        "pps": tuple(pps.split()),
        "plural_obj": plural_obj,
    }


_OUT = "park garden street beach house by_tree riverside"
VERBS = {
    # intransitive
    "wait": _verb("waits/wait", "wartet/warten", "attend/attendent", PEOPLE + ("dog",),
                  pps="station street house bridge park market"),
    "run": _verb("runs/run", "läuft/laufen", "court/courent", PEOPLE + ("dog", "horse", "cat"),
                 pps="park beach street snow garden riverside"),
    "sleep": _verb("sleeps/sleep", "schläft/schlafen", "dort/dorment", PEOPLE + ("dog", "cat"),
                   pps="garden park beach living"),
    "walk": _verb("walks/walk", "spaziert/spazieren", "se promène/se promènent", PEOPLE,
                  pps="park beach city snow riverside garden"),
    "sing": _verb("sings/sing", "singt/singen", "chante/chantent", PEOPLE + ("bird",),
                  pps="garden park kitchen street"),
    "dance": _verb("dances/dance", "tanzt/tanzen", "danse/dansent", PEOPLE,
                   pps="living street beach park kitchen"),
    "swim": _verb("swims/swim", "schwimmt/schwimmen", "nage/nagent", PEOPLE + ("dog",),
                  pps="lake river sea"),
    "play": _verb("plays/play", "spielt/spielen", "joue/jouent",
                  ("boy", "girl", "child", "student", "dog", "cat"),
                  pps="park garden snow beach street living"),
    # transitive
    "ride": _verb("rides/ride", "fährt/fahren", "conduit/conduisent", PEOPLE,
                  "bicycle motorcycle", pps="park street bridge city"),
    "ride_horse": _verb("rides/ride", "reitet/reiten", "monte/montent", PEOPLE, "horse",
                        pps="park beach snow riverside"),
    "drive": _verb("drives/drive", "fährt/fahren", "conduit/conduisent",
                   ("man", "woman", "student", "teacher", "doctor"), "car bus truck",
                   pps="street city bridge"),
    "read": _verb("reads/read", "liest/lesen", "lit/lisent", PEOPLE, "book newspaper letter",
                  pps="park garden kitchen living station beach", plural_obj=True),
    "write": _verb("writes/write", "schreibt/schreiben", "écrit/écrivent", PEOPLE,
                   "letter book", pps="kitchen living garden", plural_obj=True, obj_adjs=False),
    "eat": _verb("eats/eat", "isst/essen", "mange/mangent", PEOPLE, "apple cake sandwich",
                 pps="park garden kitchen beach station", plural_obj=True),
    "eat_animal": _verb("eats/eat", "frisst/fressen", "mange/mangent", ("dog", "cat", "horse"),
                        "apple cake sandwich", pps="garden kitchen street", plural_obj=True),
    "hold": _verb("holds/hold", "hält/halten", "tient/tiennent", PEOPLE,
                  "book newspaper ball umbrella cup bag flower apple guitar",
                  pps=_OUT + " station", plural_obj=True),
    "throw": _verb("throws/throw", "wirft/werfen", "lance/lancent", PEOPLE, "ball apple",
                   pps="park garden beach street"),
    "carry": _verb("carries/carry", "trägt/tragen", "porte/portent", PEOPLE,
                   "bag box umbrella guitar cake", pps="street city station bridge",
                   plural_obj=True),
    "wear": _verb("wears/wear", "trägt/tragen", "porte/portent", PEOPLE, "hat jacket shirt",
                  pps=_OUT + " city snow"),
    "watch": _verb("watches/watch", "beobachtet/beobachten", "regarde/regardent",
                   PEOPLE + ("dog", "cat"), ANIMALS + ("man", "woman", "child", "boy", "girl"),
                   pps=_OUT, plural_obj=True),
    "feed": _verb("feeds/feed", "füttert/füttern", "nourrit/nourrissent", PEOPLE,
                  "dog cat horse bird", pps="garden park riverside house", plural_obj=True),
    "paint": _verb("paints/paint", "malt/malen", "peint/peignent", PEOPLE,
                   "picture flower bird horse", pps="garden park living", plural_obj=True),
    "buy": _verb("buys/buy", "kauft/kaufen", "achète/achètent", PEOPLE,
                 "bicycle car book newspaper apple cake umbrella bag hat jacket shirt guitar "
                 "flower cup", pps="market city station", plural_obj=True),
    "push": _verb("pushes/push", "schiebt/schieben", "pousse/poussent", PEOPLE,
                  "bicycle motorcycle stroller", pps="street park bridge city"),
    "wash": _verb("washes/wash", "wäscht/waschen", "lave/lavent", PEOPLE,
                  "car dog horse cup shirt", pps="garden kitchen house", plural_obj=True),
    # ditransitive: "gives X to Y" / "gibt Y(dat) X(acc)" / "donne X à Y"
    "give": _verb("gives/give", "gibt/geben", "donne/donnent", PEOPLE,
                  "apple book flower ball cake letter bag umbrella hat",
                  pps="park garden kitchen street", plural_obj=True,
                  recipients=PEOPLE + ("dog", "horse")),
    "show": _verb("shows/show", "zeigt/zeigen", "montre/montrent", PEOPLE,
                  "book picture letter newspaper flower", pps="kitchen living park garden",
                  plural_obj=True, recipients=PEOPLE),
}  # fmt: skip
INTRANSITIVE = ("wait", "run", "sleep", "walk", "sing", "dance", "swim", "play")
DITRANSITIVE = ("give", "show")

DE_DEF = {
    ("m", "nom"): "der", ("f", "nom"): "die", ("n", "nom"): "das", ("pl", "nom"): "die",
    ("m", "acc"): "den", ("f", "acc"): "die", ("n", "acc"): "das", ("pl", "acc"): "die",
    ("m", "dat"): "dem", ("f", "dat"): "der", ("n", "dat"): "dem", ("pl", "dat"): "den",
}  # fmt: skip
DE_INDEF = {
    ("m", "nom"): "ein", ("f", "nom"): "eine", ("n", "nom"): "ein",
    ("m", "acc"): "einen", ("f", "acc"): "eine", ("n", "acc"): "ein",
    ("m", "dat"): "einem", ("f", "dat"): "einer", ("n", "dat"): "einem",
}  # fmt: skip
#: Adjective endings after an indefinite article ("mixed" declension).
DE_MIXED = {
    ("m", "nom"): "er", ("f", "nom"): "e", ("n", "nom"): "es",
    ("m", "acc"): "en", ("f", "acc"): "e", ("n", "acc"): "es",
    ("m", "dat"): "en", ("f", "dat"): "en", ("n", "dat"): "en",
}  # fmt: skip
NUMBERS = {"two": ("zwei", "deux"), "three": ("drei", "trois")}
_FR_VOWELS = set("aeiouyàâéèêëîïôûù")
_FR_H_MUET = {"homme", "hommes"}
_FR_CONTRACTIONS = {
    ("à", "le"): "au",
    ("à", "les"): "aux",
    ("de", "le"): "du",
    ("de", "les"): "des",
}


def _de_adj_ending(det: str, gender: str, case: str) -> str:
    if gender == "pl":
        if det == "the":
            return "en"  # weak: die jungen Männer, den jungen Männern
        return "en" if case == "dat" else "e"  # strong after a number: zwei junge Männer
    if det == "the":  # weak singular
        return "e" if case == "nom" or (case == "acc" and gender != "m") else "en"
    return DE_MIXED[(gender, case)]


def _de_dat_plural(noun_pl: str) -> str:
    return noun_pl if noun_pl.endswith(("n", "s")) else noun_pl + "n"


def _fr_vowel_initial(word: str) -> bool:
    return word[:1].lower() in _FR_VOWELS or word.lower() in _FR_H_MUET


def _noun_phrase(noun: str, det: str, adjs: tuple[str, ...], case: str) -> tuple[str, str, str]:
    """(English, German, French) noun phrase; ``det`` is "a", "the", "two" or "three"."""
    entry = NOUNS[noun]
    plural = det in ("two", "three", "the_pl")
    definite = det in ("the", "the_pl")
    # English: det + adjectives (size/age before colour) + noun
    en_words = [ADJECTIVES[a][0] for a in adjs] + [entry["en"][plural]]
    if definite:
        det_en = "the"
    elif plural:
        det_en = det
    else:
        det_en = "an" if en_words[0][0] in "aeiou" else "a"
    en = " ".join([det_en, *en_words])
    # German
    g = "pl" if plural else entry["de_g"]
    if plural:
        de_noun = _de_dat_plural(entry["de"][1]) if case == "dat" else entry["de"][1]
        art = DE_DEF[(g, case)] if definite else NUMBERS[det][0]
    else:
        de_noun = entry["de"][0] if case == "nom" else entry["de_obl"]
        art = DE_DEF[(g, case)] if definite else DE_INDEF[(g, case)]
    ending = _de_adj_ending("the" if definite else "a", g, case)
    de = " ".join([art] + [ADJECTIVES[a][1] + ending for a in adjs] + [de_noun])
    # French: det + pre-adjectives + noun + post-adjectives
    fg = entry["fr_g"]
    idx = (0 if fg == "m" else 1) + (2 if plural else 0)
    fr_noun = entry["fr"][plural]
    pre = [ADJECTIVES[a][2][idx] for a in adjs if ADJECTIVES[a][3] == "pre"]
    post = [ADJECTIVES[a][2][idx] for a in adjs if ADJECTIVES[a][3] == "post"]
    if pre and idx == 0 and _fr_vowel_initial(fr_noun):
        pre[-1] = FR_BEFORE_VOWEL.get(pre[-1], pre[-1])
    if plural:
        art_fr = "les" if definite else NUMBERS[det][1]
    elif definite:
        art_fr = "le" if fg == "m" else "la"
    else:
        art_fr = "un" if fg == "m" else "une"
    fr = " ".join([art_fr, *pre, fr_noun, *post])
    return en, de, fr


def _fr_finish(words: list[str]) -> str:
    """Join French words with elision (l', d') and the contractions au / aux / du / des."""
    elided: list[str] = []
    for w in " ".join(words).split(" "):
        if elided and elided[-1] in ("le", "la", "de") and _fr_vowel_initial(w):
            elided[-1] = elided[-1][0] + "'" + w  # l'homme, d'un
        else:
            elided.append(w)
    out: list[str] = []
    for w in elided:  # after elision: "à l'homme" stays, "à le garçon" -> "au garçon"
        if out and (out[-1], w) in _FR_CONTRACTIONS:
            out[-1] = _FR_CONTRACTIONS[(out[-1], w)]
        else:
            out.append(w)
    return " ".join(out)


def _capitalize(s: str) -> str:
    return s[:1].upper() + s[1:]


def _draw_adjs(rng, noun: str, p_one: float = 0.45, p_two: float = 0.12) -> tuple[str, ...]:
    allowed = NOUNS[noun]["adjs"]
    u = rng.random()
    if not allowed or u >= p_one + p_two:
        return ()
    first = _pick(rng, allowed)
    if u < p_two:
        kinds = {"color"} if ADJECTIVES[first][4] != "color" else {"size", "age"}
        others = [a for a in allowed if ADJECTIVES[a][4] in kinds]
        if others:
            second = _pick(rng, others)
            pair = (first, second) if ADJECTIVES[first][4] != "color" else (second, first)
            return pair
    return (first,)


def _draw_det(rng, p_plural: float) -> str:
    if rng.random() < p_plural:
        return _pick(rng, ("two", "three", "the_pl"))
    return "a" if rng.random() < 0.6 else "the"


def _draw_np(rng, noun: str, case: str, p_plural: float, adjs: bool = True):
    det = _draw_det(rng, p_plural)
    return _noun_phrase(noun, det, _draw_adjs(rng, noun) if adjs else (), case)


def translation_pair(rng) -> tuple[str, str, str]:
    """One (English, German, French) sentence."""
    u = rng.random()
    if u < 0.3:
        vkey = _pick(rng, INTRANSITIVE)
    elif u < 0.45:
        vkey = _pick(rng, DITRANSITIVE)
    else:
        vkey = _pick(rng, [k for k in VERBS if k not in INTRANSITIVE + DITRANSITIVE])
    verb = VERBS[vkey]
    subj = _pick(rng, verb["subjects"])
    subj_det = _draw_det(rng, 0.2)
    s_en, s_de, s_fr = _noun_phrase(subj, subj_det, _draw_adjs(rng, subj), "nom")
    num = 1 if subj_det in ("two", "three", "the_pl") else 0
    en, de, fr = [s_en, verb["en"][num]], [s_de, verb["de"][num]], [s_fr, verb["fr"][num]]
    p_pp = 0.85
    if verb["objects"]:
        obj = _pick(rng, [o for o in verb["objects"] if o != subj] or verb["objects"])
        p_pl = 0.2 if verb["plural_obj"] else 0.0
        o_en, o_de, o_fr = _draw_np(rng, obj, "acc", p_pl, adjs=verb["obj_adjs"])
        if verb["recipients"]:
            rec = _pick(rng, [r for r in verb["recipients"] if r != subj])
            r_en, r_de, r_fr = _draw_np(rng, rec, "dat", 0.15)
            en += [o_en, "to", r_en]
            de += [r_de, o_de]  # dative noun before accusative noun
            fr += [o_fr, "à", r_fr]
            p_pp = 0.3
        else:
            en.append(o_en)
            de.append(o_de)
            fr.append(o_fr)
            p_pp = 0.5
    if rng.random() < p_pp:
        pps = ("in_tree", "garden", "park") if subj == "bird" else verb["pps"]
        pp = PPS[_pick(rng, pps)]
        en.append(pp[0])
        de.append(pp[1])
        fr.append(pp[2])
    return (
        _capitalize(" ".join(en)) + ".",
        _capitalize(" ".join(de)) + ".",
        _capitalize(_fr_finish(fr)) + ".",
    )


# --------------------------------------------------------------------------- #
# Emails
# --------------------------------------------------------------------------- #
NAMES = ("Anna", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Henry", "Irene",
         "James", "Karen", "Leo", "Maria", "Nick", "Olivia", "Paul", "Rosa", "Sam", "Tina",
         "Victor")  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
TIMES = ("9 am", "10 am", "10:30 am", "11 am", "1 pm", "2 pm", "3:30 pm", "4 pm")
ROOMS = ("room 204", "room 310", "the main conference room", "the small meeting room",
         "the board room")  # fmt: skip
MEETING_TOPICS = ("budget", "project", "team", "sales", "marketing", "planning", "design",
                  "hiring", "safety", "quarterly review", "pricing", "training")  # fmt: skip
REPORT_KINDS = ("sales", "budget", "expense", "progress", "status", "audit", "travel",
                "inventory", "trading", "risk")  # fmt: skip
PERIODS = ("weekly", "monthly", "quarterly")
# (phrase in the body, short form for the subject line)
DELIVERABLES = (
    ("the project plan", "project plan"),
    ("the budget proposal", "budget proposal"),
    ("the expense reports", "expense reports"),
    ("the slides for the board meeting", "board slides"),
    ("the contract draft", "contract draft"),
    ("the training materials", "training materials"),
    ("the client presentation", "client presentation"),
    ("the annual review forms", "review forms"),
    ("the risk assessment", "risk assessment"),
    ("the hiring plan", "hiring plan"),
)
DOCUMENTS = (
    ("the draft agreement", "draft agreement"),
    ("the new price list", "price list"),
    ("the meeting notes", "meeting notes"),
    ("the press release", "press release"),
    ("the job description", "job description"),
    ("the gas supply contract", "gas supply contract"),
    ("the vendor proposal", "vendor proposal"),
)
SYSTEMS = ("email server", "trading system", "shared drive", "billing system", "VPN",
           "company website", "phone system")  # fmt: skip
TEAMS = ("sales", "legal", "finance", "marketing", "trading", "operations", "research", "IT")
COMPANIES = ("Acme", "Northwind", "Globex", "Initech", "Blue Harbor", "Redwood Energy",
             "Summit Gas", "Lakeside Power")  # fmt: skip
PROJECTS = ("pipeline", "website", "storage", "billing", "wind farm", "data center")
PLACES = ("the Italian place on Main Street", "the cafe downstairs", "the usual restaurant",
          "the park across the street")  # fmt: skip
QUARTERS = ("first", "second", "third", "fourth")


def _two(rng, seq):
    a = int(rng.integers(len(seq)))
    b = (a + 1 + int(rng.integers(len(seq) - 1))) % len(seq)
    return seq[a], seq[b]


def _email(rng) -> tuple[str, str]:
    """(body, subject) of one email."""
    name, other = _two(rng, NAMES)
    d1, d2 = _two(rng, DAYS)
    kind = int(rng.integers(15))
    if kind == 0:
        topic, time, room = _pick(rng, MEETING_TOPICS), _pick(rng, TIMES), _pick(rng, ROOMS)
        core = [f"The {topic} meeting has been moved from {d1} to {d2}."]
        extra = [
            f"It will start at {time} in {room}.",
            "The agenda stays the same.",
            "Please let me know if the new time does not work for you.",
            "Sorry for the short notice.",
        ]
        subject = _pick(rng, (f"{topic} meeting moved to {d2}", f"new date for {topic} meeting"))
    elif kind == 1:
        topic = _pick(rng, MEETING_TOPICS)
        core = [f"The {topic} meeting on {d1} is cancelled."]
        extra = [
            "We will find a new date next week.",
            f"{other} is out sick and cannot present.",
            "Please use the time to finish your updates.",
            "I will send a new invitation soon.",
        ]
        subject = _pick(rng, (f"{topic} meeting on {d1} cancelled", f"cancelled: {topic} meeting"))
    elif kind == 2:
        topic, time, room = _pick(rng, MEETING_TOPICS), _pick(rng, TIMES), _pick(rng, ROOMS)
        core = [f"I would like to set up a {topic} meeting on {d1} at {time}."]
        extra = [
            f"We can use {room}.",
            "It should take about an hour.",
            "Please bring your latest numbers.",
            "Let me know if this time works for you.",
        ]
        subject = f"{topic} meeting on {d1} at {time}"
    elif kind == 3:
        period, rep = _pick(rng, PERIODS), _pick(rng, REPORT_KINDS)
        m = int(rng.integers(12))
        month, prev = MONTHS[m], MONTHS[m - 1]
        core = [f"Attached is the {period} {rep} report for {month}."]
        extra = [
            f"The numbers look better than in {prev}.",
            "Please check the summary on the first page.",
            f"Send me your comments by {d1}.",
            "Let me know if anything is missing.",
        ]
        subject = _pick(rng, (f"{period} {rep} report for {month}", f"{month} {rep} report"))
    elif kind == 4:
        rep, team = _pick(rng, REPORT_KINDS), _pick(rng, TEAMS)
        core = [
            f"The {rep} report will be late this week.",
            f"We are still waiting for the figures from the {team} team.",
        ]
        extra = [
            f"I expect to send it on {d1}.",
            "Sorry for the delay.",
            f"{other} is helping us to finish it.",
        ]
        subject = _pick(rng, (f"{rep} report delayed", f"{rep} report late this week"))
    elif kind == 5:
        deliv, short = _pick(rng, DELIVERABLES)
        core = [f"This is a reminder that {deliv} is due on {d1}."]
        extra = [
            f"Please send your part to {other} before noon.",
            "Late submissions cannot be accepted.",
            "Let me know if you need more time.",
            "Thanks for your help.",
        ]
        subject = _pick(rng, (f"reminder: {short} due {d1}", f"{short} due on {d1}"))
    elif kind == 6:
        deliv, short = _pick(rng, DELIVERABLES)
        core = [f"The deadline for {deliv} has been extended to {d1}."]
        extra = [
            "This gives everyone a few more days.",
            f"{other} asked for more time to check the numbers.",
            "Please do not wait until the last day.",
        ]
        subject = _pick(rng, (f"{short} deadline extended to {d1}", f"new deadline for {short}"))
    elif kind == 7:
        doc, short = _pick(rng, DOCUMENTS)
        core = [f"Could you please review {doc} before {d1}?"]
        extra = [
            "I have marked the open questions in red.",
            "It is only a few pages.",
            f"{other} needs the final version on {d2}.",
            "Call me if anything is unclear.",
        ]
        subject = _pick(rng, (f"please review {short}", f"review of {short} by {d1}"))
    elif kind == 8:
        system, time = _pick(rng, SYSTEMS), _pick(rng, TIMES)
        core = [f"The {system} will be down on {d1} from {time} for maintenance."]
        extra = [
            "Please save your work before then.",
            "It should be back within two hours.",
            "Contact the help desk if you have problems after the update.",
        ]
        subject = _pick(rng, (f"{system} maintenance on {d1}", f"{system} down on {d1}"))
    elif kind == 9:
        team, project, company = _pick(rng, TEAMS), _pick(rng, PROJECTS), _pick(rng, COMPANIES)
        core = [f"Please welcome {other}, who joins the {team} team on {d1}."]
        extra = [
            f"{other} will work on the {project} project.",
            f"{other} comes to us from {company}.",
            "Please stop by and say hello.",
        ]
        subject = _pick(rng, (f"welcome {other} to the {team} team", f"new colleague in {team}"))
    elif kind == 10:
        d1, d2 = sorted((d1, d2), key=DAYS.index)
        core = [f"I will be out of the office from {d1} to {d2}."]
        extra = [
            f"{other} will handle any urgent requests.",
            "I will have limited access to email.",
            "I will reply to your messages when I am back.",
        ]
        subject = _pick(rng, (f"out of office until {d2}", f"away from {d1} to {d2}"))
    elif kind == 11:
        time, place = _pick(rng, ("noon", "12:30 pm", "1 pm")), _pick(rng, PLACES)
        core = [f"We are having a team lunch on {d1} at {time}."]
        extra = [
            f"We will meet at {place}.",
            "Please tell me by tomorrow if you can come.",
            "The company will pay for the food.",
        ]
        subject = _pick(rng, (f"team lunch on {d1}", "team lunch"))
    elif kind == 12:
        company, project = _pick(rng, COMPANIES), _pick(rng, PROJECTS)
        core = [f"The contract with {company} was signed this morning."]
        extra = [
            f"Work on the {project} project can start on {d1}.",
            "Thanks to everyone who helped with the negotiations.",
            "A copy is on the shared drive.",
        ]
        subject = _pick(rng, (f"{company} contract signed", f"contract with {company} signed"))
    elif kind == 13:
        company, time = _pick(rng, COMPANIES), _pick(rng, TIMES)
        core = [f"Can we set up a call with {company} on {d1} at {time}?"]
        extra = [
            "They want to discuss the new prices.",
            "I will send the dial-in details.",
            "Please check your calendar and let me know.",
        ]
        subject = _pick(rng, (f"call with {company} on {d1}", f"{company} call"))
    else:
        team, quarter = _pick(rng, TEAMS), _pick(rng, QUARTERS)
        core = [f"The {team} budget for the {quarter} quarter has been approved."]
        extra = [
            "We can now go ahead with the new hires.",
            f"{other} will send the final numbers on {d1}.",
            "Please keep your spending within the plan.",
        ]
        subject = _pick(rng, (f"{team} budget approved", f"{quarter} quarter {team} budget"))
    n = int(rng.integers(2, 5))  # 2-4 sentences
    order = rng.permutation(len(extra))
    sentences = core + [extra[i] for i in order[: max(0, n - len(core))]]
    body = " ".join(sentences)
    if rng.random() < 0.4:  # greeting; no core sentence starts with a name
        body = f"Hi {name}, " + (body if body.startswith("I ") else body[0].lower() + body[1:])
    return body, subject.lower()


# --------------------------------------------------------------------------- #
# Writing
# --------------------------------------------------------------------------- #
def _unique(draw, n: int, rng, seen: set[str]) -> list[tuple[str, ...]]:
    rows = []
    while len(rows) < n:
        row = draw(rng)
        if row[0] not in seen:
            seen.add(row[0])
            rows.append(row)
    return rows


def generate(seed: int = SEED) -> dict[str, list[tuple[str, str, str, str]]]:
    """The rows ``(text, de, fr, subject)`` of each split ("" = missing)."""
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    n_tr = sum(SIZES[s][0] for s in SIZES)
    n_em = sum(SIZES[s][1] for s in SIZES)
    trans = [(en, de, fr, "") for en, de, fr in _unique(translation_pair, n_tr, rng, seen)]
    mails = [(body, "", "", subj) for body, subj in _unique(_email, n_em, rng, seen)]
    out, i, j = {}, 0, 0
    for split, (nt, ne) in SIZES.items():
        rows = trans[i : i + nt] + mails[j : j + ne]
        i, j = i + nt, j + ne
        out[split] = [rows[k] for k in rng.permutation(len(rows))]
    return out


def make_seq2seq_sample(out_dir: str | Path | None = None, seed: int = SEED) -> list[Path]:
    """Write ``train.tsv`` and ``test.tsv`` into ``out_dir`` (default: the package data)."""
    if out_dir is None:
        out_dir = Path(__file__).resolve().parent / "data" / "seq2seq"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, rows in generate(seed).items():
        lines = ["\t".join(COLUMNS)]
        for row in rows:
            for cell in row:
                if "\t" in cell or "\n" in cell or "\r" in cell:
                    raise ValueError(f"cell with a tab or newline: {cell!r}")
            lines.append("\t".join(row))
        path = out_dir / f"{split}.tsv"
        path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="output folder (default: package data)")
    args = parser.parse_args(argv)
    for path in make_seq2seq_sample(args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
