"""The embedded paraphrase backend: offline, no model, deterministic for a seed.

A natural-language prompt is restated, not re-worded: each paraphrase keeps the user's nouns, verbs,
colours, numbers and media and varies how they are put together (:mod:`smoothie.prompt.restate`):

* the subject phrase said another way (participle ↔ relative clause ↔ full clause, "whose fur looks like a
  strawberry" ↔ "with strawberry-like fur", a place or time fronted);
* comma items joined into the sentence (a medium as its head: "a pencil sketch of …"; "… at golden hour",
  "… on a rainy street", "…, with 2 chess clocks on the table") or kept as items in another order;
* the alternative descriptions of each replaced name (``hints``);
* a few true synonyms from :mod:`smoothie.prompt.thesaurus`, gated by part of speech;
* a framing ("Envision …", "In this image, …") on top, never instead: the lines differ in their bodies first.

A long prompt is restated in its opening (``VARY_CHARS``); the phrases after it keep their words, and each
phrase is parsed once however many lines use it, so a 10,000-character prompt costs linear time.

Tag prompts (``1girl, solo, …``) go to :mod:`smoothie.prompt.tagprompt` (tags verbatim, reordered, names
described as tags). Placeholders (``[[k]]``) are never touched; the engine validates every line.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from smoothie.prompt import tagprompt
from smoothie.prompt.backends import ParaphraseRequest, register_backend
from smoothie.prompt.invariants import AGE_WORDS, COLOUR_WORDS, UNDER_WORDS, is_protected_word, is_trained_tag
from smoothie.prompt.nlp import is_english_word, noun_lemmas
from smoothie.prompt.restate import (
    CLOTHING,
    Fold,
    Parsed,
    Restatement,
    Tok,
    describes_person,
    describes_several,
    fold,
    implied_on,
    is_bird,
    is_creature,
    parse_phrases,
    present,
    restatements,
)
from smoothie.prompt.text import UNCOUNTED, article, fix_articles, stable_seed
from smoothie.prompt.thesaurus import (
    ACTION_PHRASES,
    ACTION_PHRASES_BARE,
    CLAUSE_FRAMINGS,
    KINDS,
    MATERIAL_NOT_BEFORE,
    MATERIALS,
    MULTIWORD,
    NOUN_RATE,
    NP_FRAMINGS,
    PHRASES,
    SPARE_FRAMINGS,
    STATES,
    TWINS_IN_COMPOUNDS,
    alternatives,
)

_PH = re.compile(r"\[\[\d+\]\]")
_RE_DOUBLED = re.compile(r"\b([A-Za-z]{3,})\s+\1\b", re.IGNORECASE)
# How many lines are drawn for each one asked for; the ensemble takes those that differ most in their words.
POOL_FACTOR = 2
# After this many draws in a row without a new body, a known body may come back under another framing.
_STALE = 24
# A long prompt is parsed and restated in its first VARY_CHARS characters (at least its subject phrase); the
# phrases after them keep their words, so 10,000 characters cost a few parses, not one a line.
VARY_CHARS = 2_000
# Before "a pencil sketch of …" only an imperative reads well ("Picture a pencil sketch of …").
_PREFIX_FRAMINGS = ("Picture {x}", "Imagine {x}", "Envision {x}", "Visualize {x}", "Behold {x}")


@dataclass
class _Chunk:
    """One BREAK/AND part of a natural-language prompt, analysed once for all paraphrases."""

    phrases: list[str]  # comma items, placeholders inside
    subject: int | None  # index of the subject phrase (the first with words)
    offset: int = 0  # where this prompt's cycle through the subject's restatements starts
    source: str = ""  # the chunk as written, lower case
    varied: int = 0  # how many of its phrases (from the start) are parsed and restated: VARY_CHARS
    end: str = ""  # the full stop that closes the chunk, kept last whatever moves ("…, tilt shift photo.")


class RulesBackend:
    """Paraphrases by restatement, name variants, folding, reordering and framing (see module docstring)."""

    name = "rules"

    def __init__(self, synonym_rate: float = 0.6, reorder_rate: float = 0.4) -> None:
        if not 0.0 <= synonym_rate <= 1.0:
            raise ValueError(f"synonym_rate must be within [0, 1], got {synonym_rate!r}")
        if not 0.0 <= reorder_rate <= 1.0:
            raise ValueError(f"reorder_rate must be within [0, 1], got {reorder_rate!r}")
        self.synonym_rate = synonym_rate
        self.reorder_rate = reorder_rate

    def paraphrase(self, request: ParaphraseRequest) -> list[str]:
        if request.n < 1:
            raise ValueError(f"n must be at least 1, got {request.n!r}")
        if request.style == "tags":  # tags stay verbatim: reordered, names described (smoothie.prompt.tagprompt)
            return tagprompt.paraphrase(request)
        seps = set(request.separators)
        if seps:  # split at BREAK/AND only: other placeholders stay inside their phrases
            pieces = re.split(r"\s*(" + "|".join(re.escape(x) for x in request.separators) + r")\s*", request.text)
        else:
            pieces = [request.text]
        base = stable_seed(request.text, request.seed)
        descriptions = _descriptions(request)
        chunks = [None if p in seps else _chunk(p, base, descriptions) for p in pieces]
        np_framings = list(NP_FRAMINGS)
        random.Random(base).shuffle(np_framings)
        out: list[str] = []
        seen: set[str] = set()
        bodies: set[str] = set()
        budget = max(8 * request.n, 200)
        # twice the lines asked for, when there are so many, of which the most different from each other come first
        pool = POOL_FACTOR * request.n
        stale = 0  # draws in a row that found no new body
        for i in range(budget):
            rng = random.Random(base + i + 1)
            parts: list[str] = []
            plain_parts: list[str] = []
            framed = True  # the opening of each AND sub-prompt may be framed; a BREAK continues the same one
            subprompt = 0
            for piece, chunk in zip(pieces, chunks, strict=True):
                if chunk is None:
                    parts.append(f" {piece} ")
                    plain_parts.append(f" {piece} ")
                    # only the prompt's opening is framed ("… AND Picture a storm" reads as two captions), unless
                    # the restatements run out before the ensemble is full
                    framed = piece not in request.breaks and i >= 4 * request.n
                    subprompt += 0 if piece in request.breaks else 1
                    continue
                if framed and subprompt and re.match(r"\s*\d", piece):
                    framed = False  # "AND 3 shooting stars": a number right after AND reads as its weight to some tools
                framing = np_framings[(i + 7 * subprompt) % len(np_framings)] if framed else None
                text, body = self._natural_chunk(chunk, rng, request, framing, i)
                parts.append(text)
                plain_parts.append(body)
                framed = False
            cand = re.sub(r"\s{2,}", " ", "".join(parts)).strip()
            body_key = " ".join("".join(plain_parts).lower().replace(",", " ").split())
            if not cand or cand in seen:
                continue
            if body_key in bodies:
                if stale < _STALE:
                    stale += 1
                    continue  # a new framing on an old body only once the bodies run out
            else:
                stale = 0
            seen.add(cand)
            bodies.add(body_key)
            out.append(cand)
            if len(out) >= pool or (len(out) >= request.n and i + 1 >= 4 * request.n):
                break  # more lines to choose from, but never from the openings kept for when lines run short
        out = _spread(out, request.n)
        if len(out) < request.n and len(pieces) == 1 and chunks[0] is not None and chunks[0].subject == 0:
            # a short prompt ran out of lines: its sentences once more under the spare openings
            for line in list(out):
                body = _unframed(line)
                if _CLOSE_UP.match(body):  # "Observe close-up showing …": one close-up
                    body = f"a {body}"
                first = body.split(maxsplit=1)[0].lower() if body.split() else ""
                if first in _PREPOSITIONS or first.endswith("ing"):
                    continue  # "Here is on a summer afternoon, a grandmother …": an opening frames a thing
                for framing in SPARE_FRAMINGS:
                    if framing.endswith(" of {x}") and re.match(r"\[\[\d+\]\]\s+of\b", body):
                        continue  # "A study of {oil painting|sketch} of …": no such opening
                    cand = framing.replace("{x}", _lower_first(body))
                    if cand not in seen:
                        seen.add(cand)
                        out.append(cand)
                    if len(out) >= request.n:
                        return out
        return out

    # --- natural language --------------------------------------------------------------------------------

    def _natural_chunk(
        self, chunk: _Chunk, rng: random.Random, request: ParaphraseRequest, framing: str | None, i: int
    ) -> tuple[str, str]:
        """(the chunk paraphrased, the same without its framing)."""
        phrases = [_apply_hints(p, request, rng) for p in chunk.phrases]
        descriptions = _descriptions(request)
        if chunk.subject is None:
            text = ", ".join(phrases) + chunk.end
            return text, text
        # a long prompt is restated in its first VARY_CHARS characters; the phrases after them keep their words
        # (their names' descriptions still vary, and they may be reordered), so a line costs linear time
        parsed = _parse_with_placeholders(phrases[: chunk.varied], descriptions)
        parsed += [None] * (len(phrases) - len(parsed))
        if chunk.subject is not None and chunk.subject < len(parsed):
            parsed[chunk.subject] = _reparse_action(
                phrases[chunk.subject], _reparse_bare(phrases[chunk.subject], parsed[chunk.subject]), descriptions
            )
        subs = [self._synonyms(toks, rng) if toks is not None else {} for toks in parsed]
        s = chunk.subject
        head_items = phrases[:s]  # a leading weight tag or wildcard stays first
        items = phrases[s + 1 :]
        item_parses = parsed[s + 1 :]
        subject_toks = parsed[s]
        if subject_toks is not None:
            options = _restatements(subject_toks, subs[s])
            # cycle through the restatements so every one is used before any repeats
            pick = options[(i + chunk.offset) % len(options)]
        else:
            pick = Restatement(_substituted(phrases[s], parsed[s], subs[s]))
        subject = pick.text
        if pick.fronted and ", " in subject:  # "At night, Abandoned amusement park" -> "…, abandoned amusement park"
            opening, _, rest = subject.partition(", ")
            subject = f"{opening}, {_lower_first(rest)}"
            first = subs[s].get(0, subject_toks[0].text) if subject_toks else ""
            if subject_toks is not None and _bare_count_np(subject_toks) and rest.lower().startswith(first.lower()):
                # "at a wooden counter, sushi chef is slicing tuna" is a sentence without its article
                subject = f"{opening}, {article(rest)} {_lower_first(rest)}"
        rendered_items = [
            _substituted(text, toks, sub) for text, toks, sub in zip(items, item_parses, subs[s + 1 :], strict=True)
        ]
        folds = [_fold(toks, text) for text, toks in zip(rendered_items, item_parses, strict=True)]

        prefix = ""
        suffix = ""
        attribute = ""
        front = ""
        joined: list[str] = []
        withs: list[str] = []
        kept: list[str] = []
        fronted = pick.fronted
        lit = False  # a light already said of the subject
        subject_acts = any(t.tag.startswith("VB") for t in subject_toks or ())
        roots = [t for t in subject_toks or () if t.dep == "ROOT"]
        someone = bool(roots) and (is_creature(roots[0]) or roots[0].tag.startswith("VB"))
        for text, toks, sub, fold_ in zip(rendered_items, item_parses, subs[s + 1 :], folds, strict=True):
            at = fold_ is not None and fold_.kind == "setting" and fold_.joined[0].startswith("at ")
            f = None if at and not someone else fold_  # "a cozy cabin interior at a fireplace": only someone is
            if f is None or rng.random() < 0.45:
                kept.append(_item_restated(toks, sub, rng) or text)
                continue
            if f.kind == "medium":
                free = not prefix and not suffix
                # "a girl releasing birds, a mural": a photo "of" it would show the girl, not the mural
                after = pick.kind == "medium-after"
                if (
                    free
                    and f.prefix
                    and pick.np
                    and not fronted
                    and not head_items
                    and not after
                    and rng.random() < 0.6
                ):
                    prefix = f.prefix
                elif free and f.suffix:
                    suffix = rng.choice(f.suffix)
                else:
                    kept.append(text)
            elif f.kind == "object":
                withs.append(rng.choice(f.joined))
            elif f.kind == "mood":
                kept.append(rng.choice(f.items))
            elif f.kind == "attribute":
                if not attribute and not fronted and (re.match(r"(?:a|an)\s", subject) or _bare_noun(subject_toks)):
                    attribute = f.attribute
                else:
                    kept.append(text)
            elif (
                f.kind in ("time", "weather")
                and not fronted
                and not front
                and f.fronted
                and not (pick.np and subject_acts)  # "In summer, a senator who grills …" has no verb
                and rng.random() < 0.4
            ):
                front = f.fronted
            elif f.kind == "light" and lit:
                kept.append(text)  # one light said of the subject: never "lit by … bathed in …"
            elif f.joined:
                joined.append(rng.choice(f.joined))
                lit = lit or f.kind == "light"
            else:
                kept.append(text)
        if kept and rng.random() < self.reorder_rate:
            # an item said of the subject ("trotting through a forest", "about 10 years old", "who is holding…")
            # stays where it follows it: moved behind "2 crows on a branch" it would be the crows'
            bound = max((k for k, x in enumerate(kept) if _said_of_subject(x)), default=-1)
            movable = kept[bound + 1 :]
            rng.shuffle(movable)
            kept[bound + 1 :] = movable

        if front and prefix:  # "Under an overcast sky, a film photo of …": the photo is not under the sky
            joined.append(front[:1].lower() + front[1:])
            front = ""
        body = subject
        if attribute:  # "a tired cashier wearing a cap"
            if re.match(r"(?:a|an)\s", body):
                body = re.sub(r"^(?:a|an)\s", f"{article(attribute)} {attribute} ", body, count=1)
            else:  # "cashier wearing a cap, tired": the user left the article out
                body = f"{article(attribute)} {attribute} {body}"
        # "cozy reading nook with a window seat" said in a sentence: "Picture a cozy reading nook …", "a cashier is
        # sporting a cap"; a line that keeps the user's phrase as it stands keeps their words as written
        bare = (
            not attribute
            and subject_toks is not None
            and _bare_count_np(subject_toks)
            and body.startswith(subs[s].get(0, subject_toks[0].text))  # the first word as said (a synonym too)
        )
        if bare and (body != phrases[s] or prefix or joined or front):
            body, bare = f"{article(body)} {_lower_first(body)}", False
        if prefix:
            body = f"{prefix} {_lower_first(body)}"
        # what is said of the subject ("…, about 10 years old", "…, trotting through a forest") stays next to it: a
        # setting or a light joined to it, joined objects and a medium follow it ("… under an overcast sky, about 10
        # years old" would age the sky; "…, done in watercolor, trotting" would trot the watercolor)
        lead = next((k for k, x in enumerate(kept) if not _said_of_subject(x)), len(kept))
        if lead and joined:
            kept[lead:lead] = [" ".join(joined)]
            joined = []
        if joined:  # after a comma-led ending ("…, with a white beard") the joined items take a comma too
            sep = ", " if re.search(r",\s(?:with|its|their)\s[^,]*$", body) or _ends_said_after(body) else " "
            for k, part in enumerate(joined):  # "…, softly lit by window light": a participle of its own
                # "a fisherman with a yellow raincoat, bathed in golden light": the comma gives the light to the
                # scene, not to the last noun
                own = re.match(r"(?:[a-z]+ly lit|lit|bathed|illuminated)\b", part)
                body += (", " if own else sep if k == 0 else " ") + part
        if lead and (withs or suffix):
            kept[lead:lead] = [*([", ".join(withs)] if withs else []), *([suffix] if suffix else [])]
        else:
            if withs:
                body = body + ", " + ", ".join(withs)
            if suffix:
                body = body + ", " + suffix
        if front:
            body = f"{front}, {_lower_first(body)}"
        plain = ", ".join([*head_items, body, *kept])

        text_body = body
        use_framing = (
            framing is not None
            and pick.framed
            and not pick.fronted
            and not front
            # "(masterpiece:1.2), picture a windmill": a framing opens a prompt, unless the restatements run out
            # (a weighted subject's lines take a label before it first: "Pictured: (portrait of …:1.2), …")
            and (not head_items or i >= (6 if _weighted_subject(request.original) else 4) * request.n)
            and rng.random() < 0.55
        )
        if use_framing:
            assert framing is not None
            if not pick.np:
                framing = CLAUSE_FRAMINGS[(i // 2) % len(CLAUSE_FRAMINGS)]
            elif _BARE_IN_SYNTAX.match(body) and i < 6 * request.n:
                # "A frame showing ((steampunk)) owl" lacks the article the syntax hides: "Pictured: ((steampunk))
                # owl", "Here, ((steampunk)) owl" (until the lines run out)
                framing = _LABEL_FRAMINGS[(i // 2 + rng.randrange(len(_LABEL_FRAMINGS))) % len(_LABEL_FRAMINGS)]
            elif (
                prefix
                or pick.kind in ("artwork-of", "medium-showing", "medium-after")
                or pick.kind.startswith("medium")
                or re.match(r"\[\[\d+\]\]\s+of\b", body)  # "{oil painting|sketch} of …": never "A view of {…} of"
            ):
                framing = _PREFIX_FRAMINGS[(i + rng.randrange(len(_PREFIX_FRAMINGS))) % len(_PREFIX_FRAMINGS)]
            said = set(re.findall(r"[a-z]+", body.lower())[:6])
            if said & _FRAMING_NOUNS & set(re.findall(r"[a-z]+", framing.lower())) or (
                re.match(r"(?:A|An) \w+ of \{x\}", framing) and set(re.findall(r"[a-z]+", body.lower())[:3]) & _MEDIA
            ):
                # "A view of an underwater view", "An image of a portrait": a clause framing says it once
                framing = "Here, {x}"
            if head_items:
                framing = framing[:1].lower() + framing[1:]
            if " is {x}" in framing and _several_things(subject_toks):
                framing = framing.replace(" is {x}", " are {x}")  # "Shown here are three friends …"
            if bare:
                body = f"{article(body)} {_lower_first(body)}"
            text_body = framing.replace("{x}", _lower_first(body))
        elif not head_items and chunk.phrases[s][:1].isupper() and body[:1].islower():
            text_body = body[:1].upper() + body[1:]
        text = ", ".join([*head_items, text_body, *kept])
        if (
            head_items
            and not use_framing  # never two openings: "The scene: ((greenhouse)), pictured: ferns"
            and framing is not None
            and i >= request.n  # (no other framing fits such a prompt: after the first round of lines)
            and _weighted_subject(request.original)
            and rng.random() < 0.55
        ):
            # "(portrait of an elderly man:1.2), deep wrinkles": after the first round of lines, a label before the
            # weighted subject ("Pictured: (portrait of …:1.2), …"), not an opening on the next item ("behold deep
            # wrinkles", left for when the labels run out too)
            label = _LABEL_FRAMINGS[(i // 2 + rng.randrange(len(_LABEL_FRAMINGS))) % len(_LABEL_FRAMINGS)]
            text = label.replace("{x}", text)
        return _tidy(text, chunk.source) + chunk.end, plain

    def _synonyms(self, toks: Parsed, rng: random.Random) -> dict[int, str]:
        """Token index -> a true synonym, for some of the tokens the lexicon knows in this sense."""
        if self.synonym_rate <= 0:
            return {}
        subs: dict[int, str] = {}
        for t in toks:
            inner = _HEADS.get(t.text) if t.tag in ("PHP", "PHT") else None
            if inner is not None and (said := self._synonyms(inner, rng)):
                subs[t.i] = fix_articles(_substituted(t.text, inner, said))
        for i, options in _choices(toks):
            edit = isinstance(options[0], tuple) and isinstance(options[0][0], tuple)
            rate = self.synonym_rate * (NOUN_RATE if toks[i].tag.startswith("NN") and not edit else 1.0)
            if i in subs or rng.random() >= rate:
                continue
            choice = rng.choice(options)
            if isinstance(choice, str) and _said_already(choice, toks, subs, i):
                continue  # "peaceful and quiet" is never "tranquil and tranquil", nor "sporting … is sporting"
            if edit:  # words said after their noun: several tokens change together
                if not any(k in subs for k, _ in choice):
                    subs.update(dict(choice))
            elif isinstance(choice, tuple):  # a two-word expression: its second word goes
                subs[i], subs[i + 1] = choice[0], ""
            else:
                subs[i] = choice
        return subs


_CHOICES: dict[Parsed, list[tuple[int, tuple]]] = {}


def _choices(toks: Parsed) -> list[tuple[int, tuple]]:
    """Where ``toks`` may take a synonym: (token index, alternatives); computed once per phrase."""
    cached = _CHOICES.get(toks)
    if cached is not None:
        return cached
    low = " ".join(t.lower for t in toks)
    blocked: set[int] = set()
    for mwe in MULTIWORD:
        if mwe in low:
            words = mwe.split()
            for k in range(len(toks) - len(words) + 1):
                if [t.lower for t in toks[k : k + len(words)]] == words:
                    blocked.update(range(k, k + len(words)))
    out: list[tuple[int, tuple]] = []
    for t, u in itertools.pairwise(toks):
        pair = PHRASES.get((t.lower, u.lower))
        if pair and t.i not in blocked:
            out.append((t.i, tuple((alt,) for alt in pair)))
    for t, u in itertools.pairwise(toks):  # "a sunflower field" -> "a field of sunflowers"
        if (
            u.lower in _OF_PLACES
            and t.lower not in _NOT_GROWN
            and t.dep == "compound"
            and t.head == u.i
            and t.tag == "NN"
            and u.tag == "NN"
            and t.text.isalpha()
            and not is_protected_word(t.text)
            and t.i not in blocked
            and (t.i == 0 or toks[t.i - 1].dep != "compound")
            # "a giant mushroom forest" is no "giant forest of mushrooms": what says how it is stays with it
            and (t.i == 0 or toks[t.i - 1].tag not in ("JJ", "VBN", "VBG"))
        ):
            out.append((t.i, ((f"{u.text} of {_plural(t.text)}",),)))
    for t, u in itertools.pairwise(toks):  # "a mountain village" -> "a village in the mountains"
        where = _SETTING_OF.get(t.lower)
        if (
            where
            and u.lower in _SET_THINGS
            and t.dep == "compound"
            and t.head == u.i
            and u.dep != "compound"
            and t.tag == "NN"
            and u.tag in ("NN", "NNS")
            and t.text.islower()
            and t.i not in blocked
            and u.i not in blocked
            and (t.i == 0 or toks[t.i - 1].dep != "compound")
            and not any(toks[c].dep in ("acl", "relcl") for c in u.children)  # "a temple covered in vines"
        ):
            out.append((t.i, ((f"{u.text} {where}",),)))
    for t in toks:  # "dressed as a bumblebee" = "in a bumblebee costume" = "wearing a bumblebee costume"
        if t.lower != "dressed" or t.i in blocked:
            continue
        prep = next((toks[c] for c in t.children if toks[c].lower == "as" and c == t.i + 1), None)
        role = next((toks[c] for c in prep.children if toks[c].dep == "pobj"), None) if prep else None
        if (
            prep is None
            or role is None
            or role.tag != "NN"
            or not role.text.isalpha()
            or toks[prep.i + 1].lower not in ("a", "an")
            or any(toks[k].dep not in ("amod", "compound") or toks[k].children for k in range(prep.i + 2, role.i))
            or any(c > role.i and toks[c].dep != "prep" for c in role.children)
            or (role.i + 1 < len(toks) and toks[role.i + 1].tag in ("NN", "NNS", "POS"))
            or {t.i, prep.i, role.i} & blocked
        ):
            continue
        costume = f"{role.text} costume"
        out.append((t.i, tuple(((t.i, verb), (prep.i, ""), (role.i, costume)) for verb in ("in", "wearing"))))
    for t in toks:  # what a verb says in its family's words: "wearing a raincoat" -> "dressed in a raincoat"
        if t.i in blocked or t.dep == "amod":
            continue
        objects = [toks[c].lower for c in t.children if toks[c].dep in ("dobj", "pobj")]
        wearer = toks[t.head] if t.head < t.i else None
        if t.lower == "in" and t.dep == "prep" and wearer is not None and _worn(toks, t, wearer, objects):
            # "a woman in a red kimono" = "a woman wearing a red kimono"
            worn = ("wearing", "dressed in", "clad in") if objects[0] in _GARMENTS else ("wearing",)
            out.append((t.i, tuple(w for w in worn if not (w == "dressed in" and objects[0] in _DRESSES))))
        elif t.lower == "on" and t.dep == "prep" and wearer is not None and wearer.i == t.i - 1:
            if objects and objects[0] in _RIDDEN and (is_creature(wearer) or wearer.tag == "PHP"):
                out.append((t.i, ("riding", "astride") if objects[0] in _ASTRIDE else ("riding",)))
            elif is_bird(wearer):  # "an owl on a branch" = perched on it
                out.append((t.i, ("perched on", "perched upon")))
            elif _laid_on(toks, t, wearer, objects):  # "a wool scarf on a wooden table" = resting on it
                out.append((t.i, ("resting on", "placed on")))
        elif (
            t.lower == "over"
            and t.dep == "prep"
            and wearer is not None
            and wearer.i == t.i - 1
            and wearer.lower in _SPANS
            and objects
            and objects[0] in _SPANNED
        ):
            out.append((t.i, ("spanning", "across")))  # "a stone bridge over a river" = spanning it
        elif (
            t.lower == "with"
            and t.dep == "prep"
            and objects
            and objects[0] in _TOPPINGS
            and t.i > 0
            and toks[t.i - 1].lower in _DISHES
            and toks[t.i - 1].tag in ("NN", "NNS")
        ):
            out.append((t.i, ("topped with",)))  # "waffles with blueberries" = "waffles topped with blueberries"
        elif t.lower == "with" and t.dep == "prep" and any(o in _SPORTED for o in objects):
            if toks[t.head].tag in ("NN", "NNS") and t.head < t.i:  # "a man with a white beard"
                out.append((t.i, ("sporting",)))
        elif t.lower in ("light", "lighting") and t.tag == "NN" and _kind_of_light(toks, t):
            out.append((t.i, ("lighting" if t.lower == "light" else "light",)))  # "warm light" = "warm lighting"
        elif t.lower == "looking" and t.tag == "VBG" and _looks_somewhere(toks, t):
            out.append((t.i, ("gazing",)))
        elif (
            t.lower == "sleeping"
            and t.tag == "VBG"
            and t.dep not in ("amod", "compound")  # "a sleeping gorilla" is never "an asleep gorilla"
            and not any(toks[c].dep == "dobj" for c in t.children)
        ):
            out.append((t.i, ("asleep", "fast asleep")))
        elif (
            t.lower in ACTION_PHRASES
            and t.tag == "VBG"
            and not any(toks[c].dep in ("dobj", "prt") for c in t.children)
            and (t.lower not in ACTION_PHRASES_BARE or not t.children)
            and len(toks) > 1  # "…, smiling, …" on its own is a tag the model knows
        ):
            out.append((t.i, ACTION_PHRASES[t.lower]))
    for t in toks:  # "a samurai" -> "a samurai warrior": a kind with its class, where it heads its phrase
        kind = KINDS.get(t.lower)
        cls = kind.split()[-1] if kind else ""
        nxt = toks[t.i + 1] if t.i + 1 < len(toks) else None
        if (
            kind
            and t.tag in ("NN", "NNS")
            and t.dep != "compound"
            and t.i not in blocked
            and not (t.i >= 2 and toks[t.i - 1].lower == "on" and toks[t.i - 2].lower in _PAINTS)  # "oil on oak"
            and (nxt is None or nxt.tag in _AFTER_A_NOUN_PHRASE)  # not "a ramen bowl/VBP" the parser misread
            and cls not in {x.lower for x in toks}
        ):
            said = kind if t.text.islower() else f"{t.text} {cls}"  # "Corgi" keeps its capital
            out.append((t.i, (((t.i, said),),)))
    for t in toks:  # "on the left" = "on the left side": the same place, the side said
        if (
            t.lower in ("left", "right")
            and t.tag in ("NN", "JJ")
            and t.dep == "pobj"
            and t.i not in blocked
            and toks[t.head].lower == "on"  # a place, not a way to look or go ("looking to the right")
            and t.i >= 2
            and toks[t.i - 1].lower == "the"
            and toks[t.head].i == t.i - 2
            and not t.children[1:]
            and (t.i + 1 == len(toks) or not toks[t.i + 1].tag.startswith(("NN", "JJ")))
        ):
            out.append((t.i, (((t.i, f"{t.text} side"),),)))
    for t in toks:  # "a snowy ridge" -> "a ridge covered in snow", "a stone statue" -> "a statue carved from stone"
        edits = (
            _after_noun(toks, t, blocked) or _covered_after_noun(toks, t, blocked) or _acting_after(toks, t, blocked)
        )
        if edits:
            out.append((t.i, edits))
    for t in toks:  # "the rim of a crater" -> "a crater's rim"
        edits = _possessive_part(toks, t, blocked)
        if edits:
            out.append((t.i, edits))
    for t in toks:
        same_direction = t.lower in UNDER_WORDS  # "under" / "beneath" / "underneath": one direction in other words
        if t.i in blocked or (is_protected_word(t.text) and not same_direction) or not t.text.isalpha():
            continue
        if t.tag.startswith("NN") and t.dep == "compound":
            continue  # "sea turtles", "storm clouds": a noun naming a kind of another noun stays
        if (
            t.tag.startswith("NN")
            and t.lower not in TWINS_IN_COMPOUNDS
            and any(toks[c].dep == "compound" for c in t.children)
        ):
            continue  # and so does the noun it names a kind of: a "house cat" is no "house feline"
        if t.tag.startswith("NN") and t.i > 0 and toks[t.i - 1].lower in _BOUND_BEFORE_NOUN:
            continue  # "a black cat", "a little boy" are read as one thing: "a black feline", "a little lad" are not
        if t.dep == "amod" and toks[t.head].lower in _STATE_KINDS:
            continue  # "a snowy owl" is a species
        if t.lower in STATES and toks[t.head].lower in _TIMES_OF:
            continue  # "a rainy day" is not "a rain-slicked day"
        if t.i > 0 and toks[t.i - 1].lower in _AGE_UNITS:
            continue  # "a 30 year old woman" is an age, never "30 year aged"
        tag = t.tag
        if t.tag == "VBG" and t.dep == "amod":
            # "floating candles", "flying cars": a participle before its noun names a kind of thing; only the
            # lexicon's PRE entries ("glowing eyes" = "luminous eyes") are qualities said another way there
            tag = "PRE"
        if t.tag.startswith("NN") and t.i > 0 and toks[t.i - 1].tag == "PRP$":
            continue  # "my cat" is the user's own: never "my feline"
        if t.tag == "IN":  # a preposition is gated by its object: "in a kitchen" -> "inside a kitchen"
            obj = next((toks[c] for c in t.children if toks[c].dep == "pobj"), None)
            head = obj.lower if obj is not None else ""
        elif t.head != t.i:
            head = toks[t.head].lower
        else:  # "steam rising" read as a clause: the verb's own subject is what it is said of
            head = next((toks[c].lower for c in t.children if toks[c].dep == "nsubj"), "")
        alts = alternatives(t.text, tag, head)
        if t.lower == "asleep" and t.head < t.i and toks[t.head].tag in ("NN", "NNS"):
            alts += ("sleeping",)  # "a fox asleep in the snow" = "a fox sleeping in the snow" (never "fell sleeping")
        if "out in" in alts and t.i > 0 and toks[t.i - 1].tag.startswith("VB"):
            alts = tuple(a for a in alts if a != "out in")  # "covered/standing/stuck in the snow": never "out in"
        if alts:
            upper = t.text[:1].isupper()
            out.append((t.i, tuple(a[:1].upper() + a[1:] if upper else a for a in alts)))
    if len(_CHOICES) > 4096:
        _CHOICES.clear()
    _CHOICES[toks] = out
    return out


# Framings a bare noun phrase may follow: those that say only where ("Here, …") and the labels ("Pictured: …").
_LABEL_FRAMINGS = tuple(
    f
    for f in (*CLAUSE_FRAMINGS, *NP_FRAMINGS, *SPARE_FRAMINGS)
    if re.fullmatch(r"[^{]*[,:] \{x\}", f) and " that " not in f
)

# A prompt that opens with syntax around a noun without its article: "((steampunk)) owl", "[red:blue:0.5] car"
# (the syntax is a "[[0]]" stand-in by then); "{Godzilla|King Kong} wading …" is a whole subject, and acts
_NOT_A_NOUN_NEXT = (
    r"(?!(?:a|an|the|my|his|her|their|our|one|two|three|in|on|at|with|by|of|under|over|and)\b|\w+(?:ing|ed)\b)"
)
_BARE_IN_SYNTAX = re.compile(
    rf"(?:\[\[\d+\]\]\s*)+{_NOT_A_NOUN_NEXT}[A-Za-z]|[(\[]+\s*(?!\d){_NOT_A_NOUN_NEXT}[A-Za-z]", re.I
)

_CLAUSE_WORDS = frozenset("is are was were am has have had does do did will would can could".split())
_AGE_UNITS = frozenset("year years yr yrs month months week weeks day days".split())

# What may follow a whole noun phrase: punctuation, a preposition, a conjunction, a participle, an adverb.
_AFTER_A_NOUN_PHRASE = frozenset(
    {",", ".", ":", "IN", "CC", "VBG", "VBN", "DT", "RB", "TO", "WDT", "WP", "RP", "-RRB-"}
)


def _kind_of_light(toks: Parsed, t: Tok) -> bool:
    """ "warm light", "dramatic lighting": light as a quality (an adjective of its own, no article), not a lamp
    ("a light in the window") nor part of a name ("city light", "light saber")."""
    kids = [toks[c] for c in t.children]
    return (
        any(k.dep == "amod" and k.i == t.i - 1 for k in kids)
        and not any(k.dep == "det" and k.lower in ("a", "an") for k in kids)
        and not any(k.dep == "compound" for k in kids)
        and (t.i + 1 == len(toks) or not toks[t.i + 1].tag.startswith("NN"))
    )


_GAZE_WORDS = frozenset("at up down right left into out toward towards over away back ahead".split())


def _looks_somewhere(toks: Parsed, t: Tok) -> bool:
    """ "looking at the sea", "looking right": a gaze ("gazing" says the same); not "looking like", "good-looking"."""
    nxt = toks[t.i + 1].lower if t.i + 1 < len(toks) else ""
    return nxt in _GAZE_WORDS and "-" not in t.text


# A place a thing is named by, said as where it is ("a mountain village" = "a village in the mountains").
_SETTING_OF = {
    "mountain": "in the mountains",
    "beach": "on the beach",
    "lake": "by the lake",
    "lakeside": "by the lake",
    "forest": "in the forest",
    "jungle": "in the jungle",
    "desert": "in the desert",
    "city": "in the city",
    "river": "by the river",
    "riverside": "by the river",
    "seaside": "by the sea",
    "swamp": "in the swamp",
    "valley": "in the valley",
    "village": "in the village",
    "countryside": "in the countryside",
}
# What may be said to be in such a place (not "a forest spirit", "a beach towel", "a city skyline").
_SET_THINGS = frozenset(
    """village villages town hamlet cabin cabins cottage cottages house houses hut huts lodge chalet road roads path
    trail street streets alley temple temples shrine castle ruins camp campsite market cafe bar tavern inn lake
    stream waterfall monastery church chapel canyon pond cave clearing hotel resort villa farm farmhouse park
    bridge square plaza""".split()
)


def _worn(toks: Parsed, prep: Tok, wearer: Tok, objects: list[str]) -> bool:
    """ "in" + what a person or an animal wears, right after it ("a woman in a red kimono", "a corgi in a
    sweater"): not a place ("a woman in a dress shop"), not a misparse of a longer phrase."""
    if len(objects) != 1 or objects[0] not in _WORN or not (is_creature(wearer) or wearer.tag == "PHP"):
        return False
    obj = next(toks[c] for c in prep.children if toks[c].dep == "pobj")
    return obj.tag in ("NN", "NNS", "NNP") and not any(c > obj.i for c in obj.children) and wearer.i < prep.i


# Surfaces a thing rests on, and what spans what ("a bridge over a river" = spanning it, across it).
_SURFACES = frozenset(
    """table tables desk counter countertop shelf shelves windowsill sill cloth tablecloth tray plate saucer bench
    floor rug carpet mat doormat dresser nightstand workbench""".split()
)
# What is on a surface without lying there ("oil stains on the floor", "shadows on the table").
_MARKS = frozenset(
    """stain stains mark marks spot spots puddle puddles shadow shadows reflection reflections light lights dust
    scratch scratches crack cracks splatter splatters pattern patterns graffiti paint ink water""".split()
)
_SPANS = frozenset("bridge bridges footbridge viaduct aqueduct".split())
_SPANNED = frozenset("river rivers stream creek canal gorge ravine chasm brook moat valley canyon".split())


def _laid_on(toks: Parsed, prep: Tok, thing: Tok, objects: list[str]) -> bool:
    """ "on" + a surface right after a lifeless thing ("a scarf on a table", "3 lemons on a linen cloth"): it rests
    there. Not after someone or an animal (who sits, stands or lies), nor a thing of a compound ("a table lamp")."""
    if len(objects) != 1 or objects[0] not in _SURFACES or thing.tag not in ("NN", "NNS") or thing.i != prep.i - 1:
        return False
    if is_creature(thing) or thing.dep == "compound" or not thing.text.isalpha() or is_protected_word(thing.text):
        return False
    if implied_on(thing) or thing.lower in _MARKS:
        return False  # said by the subject's own restatements ("a vase resting on a shelf"), or a mark, never laid
    obj = next(toks[c] for c in prep.children if toks[c].dep == "pobj")
    return not any(c > obj.i for c in obj.children)


# What one rides ("a samurai on a horse" = riding it), and what one also sits astride.
_RIDDEN = frozenset(
    """horse horses pony ponies bicycle bike motorcycle motorbike scooter moped skateboard surfboard snowboard camel
    camels elephant unicorn donkey mule broomstick broom unicycle tricycle""".split()
)
_ASTRIDE = frozenset(
    "horse pony bicycle bike motorcycle motorbike camel elephant unicorn donkey mule broomstick".split()
)
# What one is dressed in (not what one carries or puts on the face: "clad in sunglasses" is not English).
_GARMENTS = frozenset(
    """coat raincoat overcoat jacket dress gown kimono suit uniform armor armour robe robes shirt t-shirt hoodie
    sweater cardigan skirt jeans trousers shorts bikini swimsuit leotard bodysuit plugsuit tunic cloak cape
    outfit costume clothes attire tuxedo vest pajamas sari saree hanbok qipao overalls""".split()
)
# What one wears or grows on the head or face, and may be said to be "sporting".
_SPORTED = frozenset(
    """beard mustache moustache goatee stubble sideburns mohawk tattoo tattoos hat cap beret fedora helmet crown
    tiara glasses sunglasses spectacles goggles headband bandana earrings necklace scarf monocle eyepatch
    headphones bowtie""".split()
)
# What one is said to be "in" and may be said to wear: garments, and what covers the head, hands or feet.
_WORN = _GARMENTS | CLOTHING
_DRESSES = frozenset({"dress", "dresses"})
# Times a state describes ("a rainy evening", "a sunny day"): said after them, a state would mean another thing.
_TIMES_OF = frozenset(
    """day days evening evenings night nights morning mornings afternoon afternoons dawn dusk twilight weather
    season summer winter spring autumn fall week weekend hour hours time moment mood atmosphere""".split()
)
# What is carved ("a statue carved from stone"; a floor is not).
_CARVINGS = frozenset(
    """statue statues bust busts sculpture sculptures figurine figurines idol idols column columns pillar pillars
    relief reliefs gargoyle gargoyles angel angels lion lions head heads mask masks totem totems""".split()
)
# Words that bind to the noun after them (its colour, its age or size): the pair stays whole.
_BOUND_BEFORE_NOUN = COLOUR_WORDS | AGE_WORDS | frozenset("little tiny small baby".split())
# Kinds named by a state ("a snowy owl" is a species, not an owl covered in snow).
# What a picture is painted in, before "on <support>" ("oil on oak", "tempera on panel"): the support is a medium.
_PAINTS = frozenset("oil oils acrylic acrylics tempera gouache ink watercolor watercolour encaustic enamel".split())
_STATE_KINDS = frozenset("owl owls egret egrets plover plovers leopard leopards rose roses".split())


_SAID_AFTER = tuple(sorted({p for phrases in (*STATES.values(), *MATERIALS.values()) for p in phrases}, key=len))


def _ends_said_after(body: str) -> bool:
    """The sentence ends in a state or material said after its noun ("a hill swept by wind"): what joins it next
    takes a comma, or it would read as part of that phrase ("swept by wind bathed in orange glow")."""
    low = body.lower()
    return any(low.endswith(" " + p) for p in _SAID_AFTER)


def _after_noun(toks: Parsed, t: Tok, blocked: set[int]) -> tuple[tuple[tuple[int, str], ...], ...]:
    """The edits that say modifier ``t`` after its noun in its own family's words ("a snowy mountain village" →
    "a mountain village covered in snow"), or ``()``. Only for a modifier that sits right before its noun (other
    modifiers of that noun may come between), whose noun ends the phrase there: "a snowy ridge of …" stays."""
    low = t.lower
    material = low not in STATES
    phrases = MATERIALS.get(low, ()) if material else STATES[low]
    if not phrases or t.i in blocked or t.dep not in ("amod", "compound") or t.children:
        return ()
    if is_protected_word(t.text) or not re.fullmatch(r"[A-Za-z][A-Za-z-]*", t.text):
        return ()
    head = toks[t.head]
    if not (t.i < head.i <= t.i + 3) or head.tag not in ("NN", "NNS") or head.i in blocked:
        return ()
    if head.dep == "compound":  # "a misty temple courtyard": temple names a kind of courtyard
        return ()
    if not head.text.isalpha() or is_protected_word(head.text) or any(c > head.i for c in head.children):
        return ()
    if any(toks[k].dep not in ("amod", "compound") or toks[k].children for k in range(t.i + 1, head.i)):
        return ()
    if material and (head.i != t.i + 1 or head.lower in MATERIAL_NOT_BEFORE or describes_person(head.text)):
        return ()  # "ice climbers", "glass blowers", "stone masons" work the material; nobody is made of it
    if head.dep == "pobj" and toks[head.head].lower == "as":
        return ()  # "X as a stone statue" is restated as "a stone statue of X": the material stays before it
    if material and head.dep == "pobj" and toks[head.head].lower in ("of", "from"):
        return ()  # "an owl made of brass gears" is never "made of gears made of brass"
    if not material and head.lower in _TIMES_OF:
        return ()  # "a rainy evening" is an evening when it rains, not one wet with rain
    if not material and head.lower in _STATE_KINDS:
        return ()
    if material and head.lower not in _CARVINGS:
        phrases = tuple(p for p in phrases if not p.startswith("carved")) or phrases[:1]
    return tuple(((t.i, ""), (head.i, f"{head.text} {phrase}")) for phrase in phrases)


# What moves, shines or sounds by itself, said before its noun ("falling leaves", "crashing waves", "flickering
# lights"): the same thing said doing it after the noun ("leaves that fall", "waves crashing"). Not the -ing words
# that name a kind ("rolling hills", "flying fish", "a sleeping bag"), nor those the annotated sets keep as
# written (glowing, floating, flying, running).
_ACTING = frozenset(
    """falling rising drifting swirling flickering spinning flowing crashing steaming bubbling crackling twinkling
    sparkling shimmering blinking flashing smoldering smouldering dripping swaying churning billowing""".split()
)
_NOT_ACTING = frozenset("star stars water waters tide sun".split())  # "falling star", "rising tide": kinds, idioms


def _acting_after(toks: Parsed, t: Tok, blocked: set[int]) -> tuple[tuple[tuple[int, str], ...], ...]:
    """ "crashing waves" -> "waves crashing", "waves that crash": an -ing word of :data:`_ACTING` right before
    the noun that ends its phrase, said after it."""
    if t.lower not in _ACTING or t.tag not in ("VBG", "NN", "JJ") or t.dep not in ("amod", "compound"):
        return ()  # (the tagger reads "flickering lights" as a compound as often as not)
    if t.i in blocked or t.children:
        return ()
    head = toks[t.head]
    if head.i != t.i + 1 or head.tag not in ("NN", "NNS") or head.i in blocked or head.lower in _NOT_ACTING:
        return ()
    if head.dep == "compound" or not head.text.isalpha() or any(c > head.i for c in head.children):
        return ()
    if head.i + 1 < len(toks) and toks[head.i + 1].tag not in (",", ".", "CC"):
        return ()  # only where the noun ends the phrase: "falling leaves on a bench" keeps its order
    plural = head.tag == "NNS"
    simple = present(t.text, plural)
    said = [f"{head.text} {t.text}"]
    if simple:
        said.append(f"{head.text} that {simple}")
    return tuple(((t.i, ""), (head.i, x)) for x in said)


# Food that is topped ("waffles with blueberries" = "waffles topped with blueberries"), and what tops it (never
# what comes beside it: "a burger with fries" is no "burger topped with fries").
_DISHES = frozenset(
    """waffle waffles pancake pancakes pie tart tarts cake cakes cupcake cupcakes cheesecake pizza burger burgers
    toast sundae sundaes oatmeal porridge ramen noodles soup salad pasta spaghetti taco tacos bagel bagels donut
    donuts doughnut doughnuts brownie brownies yogurt muffin muffins crepe crepes dessert ice-cream gelato latte
    cappuccino cocoa hotdog sushi rice curry steak""".split()
)
_TOPPINGS = frozenset(
    """berries blueberries strawberries raspberries blackberries cherries cherry fruit syrup honey cream sprinkles
    cheese egg eggs sauce butter chocolate nuts almonds walnuts pecans herbs scallions sesame bacon mushrooms
    pepperoni basil tomatoes avocado salmon caviar frosting icing sugar candles nori caramel fudge marshmallows
    foam cinnamon mint parsley chili chilies jalapenos olives pineapple banana bananas""".split()
)
# "moss-covered stones" = "stones covered in moss": the participle said after its noun, with its preposition.
_COVERED = {
    "covered": "covered in",
    "filled": "filled with",
    "lined": "lined with",
    "capped": "capped with",
    "strewn": "strewn with",
    "draped": "draped in",
    "laden": "laden with",
    "encrusted": "encrusted with",
    "streaked": "streaked with",
    "dusted": "dusted with",
    "stained": "stained with",
    "splattered": "splattered with",
}
# What covers as a mass, never counted ("covered in moss", but "lined with trees").
_COVER_MASS = frozenset(
    """snow dew moss ivy dust frost ice mud sand grass rust soot ash blood water oil paint graffiti fog mist rain foam
    lichen algae mold mould smoke steam sugar flour glitter gold silver chocolate cream lava light""".split()
)


def _covered_after_noun(toks: Parsed, t: Tok, blocked: set[int]) -> tuple[tuple[tuple[int, str], ...], ...]:
    """ "a dew covered leaf", "snow-capped peaks": the edits that say "a leaf covered in dew", "peaks capped with
    snow", or ``()``. Only where the participle sits right before a noun that ends its phrase there."""
    prep = _COVERED.get(t.lower)
    if prep is None or t.tag != "VBN" or t.dep != "amod" or t.i in blocked:
        return ()
    head = toks[t.head]
    if head.i != t.i + 1 or head.tag not in ("NN", "NNS") or head.i in blocked or not head.text.isalpha():
        return ()
    if head.dep == "compound" or any(
        c > head.i and (toks[c].dep != "prep" or toks[c].lower in ("of", "with")) for c in head.children
    ):
        return ()  # "a moss-covered stone wall": stone names a kind of wall; "a ridge covered in snow of …" misreads
    hyph = t.i - 1 if t.i >= 1 and toks[t.i - 1].tag == "HYPH" else None
    k = (hyph if hyph is not None else t.i) - 1
    if k < 0 or k in blocked:
        return ()
    stuff = toks[k]
    if stuff.tag not in ("NN", "NNS") or stuff.head != t.i or not stuff.text.isalpha() or stuff.children:
        return ()
    if is_protected_word(stuff.text) or is_protected_word(head.text):
        return ()
    said = stuff.lower if stuff.lower in _COVER_MASS or stuff.tag == "NNS" else _plural(stuff.lower)
    gone = [(stuff.i, ""), *([(hyph, "")] if hyph is not None else []), (t.i, "")]
    return ((*gone, (head.i, f"{head.text} {prep} {said}")),)


# Parts said as their whole's ("the rim of a crater" = "a crater's rim"): where a thing's own part or light is meant.
_OWN_PARTS = frozenset(
    """rim edge brink shore shores surface roof summit peak mouth bank banks face light glow shadow silhouette
    reflection""".split()
)


def _possessive_part(toks: Parsed, t: Tok, blocked: set[int]) -> tuple[tuple[tuple[int, str], ...], ...]:
    """ "the rim of a crater" → "a crater's rim", "the light of the moon" → "the moon's light": the edits, or ``()``.
    Only for a part the table knows, of one thing said with an article and at most two words before it, with
    nothing after it."""
    if t.lower != "the" or t.dep != "det" or t.i + 3 >= len(toks):
        return ()
    part = toks[t.i + 1]
    of = toks[t.i + 2]
    if part.lower not in _OWN_PARTS or part.tag != "NN" or t.head != part.i or of.lower != "of" or of.head != part.i:
        return ()
    if any(c not in (t.i, of.i) for c in part.children):
        return ()
    objs = [toks[c] for c in of.children if toks[c].dep == "pobj"]
    if len(objs) != 1 or len(of.children) != 1:
        return ()
    owner = objs[0]
    det = toks[of.i + 1]
    if det.lower not in ("a", "an", "the") or det.head != owner.i or owner.tag != "NN" or not owner.text.isalpha():
        return ()
    if (
        owner.i - det.i > 3
        or any(c > owner.i for c in owner.children)
        or (owner.i + 1 < len(toks) and toks[owner.i + 1].tag == "POS")
    ):
        return ()
    if any(toks[k].dep not in ("amod", "compound") or toks[k].children for k in range(det.i + 1, owner.i)):
        return ()
    if any(k in blocked for k in range(t.i, owner.i + 1)) or is_protected_word(owner.text):
        return ()
    words = " ".join(x.text for x in toks[det.i : owner.i + 1])
    gone = tuple((k, "") for k in range(of.i, owner.i + 1))
    return (((t.i, f"{words}'s"), *gone),)


# Places named after what grows there: "a sunflower field" is "a field of sunflowers".
_OF_PLACES = frozenset("field meadow grove forest garden orchard patch plantation".split())
# What a place is for or made of, not what grows in it: a "farm field" is no "field of farms", a "rain forest" no
# "forest of rains", a "soccer field" no "field of soccers".
_NOT_GROWN = frozenset(
    """farm battle soccer football baseball sports sport tennis golf cricket rugby hockey training parade camp
    prison school play ice snow oil gas rain rock stone zen roof rooftop kitchen beer mine air force energy lava
    debris asteroid star magnetic cloud sky city town castle palace temple community botanical memorial sculpture
    water autumn fall winter summer spring night morning evening dawn dusk fog mist paddy""".split()
)
_MASS = frozenset("bamboo wheat rice corn grass tea barley hay clover moss ivy heather cotton".split())


def _plural(noun: str) -> str:
    low = noun.lower()
    if low in _MASS:
        return noun
    if re.search(r"[^aeiou]y$", low):
        return noun[:-1] + "ies"
    if re.search(r"(?:s|sh|ch|x|z)$", low):
        return noun + "es"
    return noun + "s"


_RESTATED: dict[tuple[Parsed, tuple[tuple[int, str], ...]], list[Restatement]] = {}


def _restatements(toks: Parsed, subs: dict[int, str]) -> list[Restatement]:
    key = (toks, tuple(sorted(subs.items())))
    cached = _RESTATED.get(key)
    if cached is None:
        if len(_RESTATED) > 8192:
            _RESTATED.clear()
        cached = _RESTATED[key] = restatements(toks, subs)
    return cached


# What a comma item with an action of its own may be said as ("…, dust floating in the air" → "…, dust that
# floats in the air" / "…, dust that is floating in the air"): a relative clause keeps it a noun phrase beside the
# others; a full clause or a fronted place would read as a new sentence inside the list.
_ITEM_KINDS = ("rel-present", "rel")
_COMPLEMENTS = frozenset({"prep", "dobj", "obj", "advmod", "prt", "xcomp", "advcl", "npadvmod", "acomp"})


def _item_restated(toks: Parsed | None, subs: dict[int, str], rng: random.Random) -> str | None:
    """A comma item said with a relative clause, or None to keep it as written (about half of the time)."""
    # the action has a complement ("dust floating in the air", "people shopping at a market"): a bare "-ing"
    # after a noun is as often a technique's name the tagger read as a verb ("ray tracing", "cel shading")
    if toks is None or not any(
        t.tag == "VBG" and t.dep != "amod" and t.i > 0 and any(toks[c].dep in _COMPLEMENTS for c in t.children)
        for t in toks
    ):
        return None
    options = [r for r in _restatements(toks, subs) if r.kind in _ITEM_KINDS and r.np]
    if not options or rng.random() < 0.5:
        return None
    return rng.choice(options).text


_FOLDS: dict[str, Fold | None] = {}


def _fold(toks: Parsed | None, text: str) -> Fold | None:
    if text not in _FOLDS:
        if len(_FOLDS) > 4096:
            _FOLDS.clear()
        _FOLDS[text] = fold(toks, text)
    return _FOLDS[text]


def _chunk(text: str, seed: int, descriptions: tuple[str, ...] = ()) -> _Chunk:
    phrases = [p.strip() for p in _split_commas(text, descriptions)]
    phrases = [p for p in phrases if p]
    end = ""
    if phrases and re.search(r"[^.]\.$", phrases[-1]) and not re.search(r"\b[A-Za-z]\.$", phrases[-1]):
        phrases[-1], end = phrases[-1][:-1], "."  # not an initial or an abbreviation's dot ("J.", "St.")
    # the subject is the first phrase with words that is not a quality tag ("masterpiece, a cat on a roof")
    subject = next(
        (k for k, p in enumerate(phrases) if re.search(r"[A-Za-z]", _PH.sub("", p)) and not is_trained_tag(p)),
        None,
    )
    varied, length = 0, 0
    while varied < len(phrases) and (length < VARY_CHARS or (subject is not None and varied <= subject)):
        length += len(phrases[varied]) + 2
        varied += 1
    return _Chunk(phrases, subject, seed % 101, " ".join(text.lower().split()), varied, end)


def _split_commas(text: str, descriptions: tuple[str, ...]) -> list[str]:
    """``text`` split at its commas, except those inside a name's description ("a woman with an updo, pearls
    and a black dress" is one noun phrase)."""
    inside: set[int] = set()
    for d in descriptions:
        if "," in d:
            for m in re.finditer(re.escape(d), text):
                inside.update(range(m.start(), m.end()))
    out, start = [], 0
    for k, ch in enumerate(text):
        if ch == "," and k not in inside:
            out.append(text[start:k])
            start = k + 1
    out.append(text[start:])
    return out


_STAND_INS = ("thing", "someone", "something", "canister", "canisters")
# "a watering can", "a trash can": a noun the small parser reads as the verb "can"; parsed as "canister"
_CAN_NOUN = re.compile(
    r"\b(?:watering|trash|garbage|tin|paint|soda|beer|spray|oil|milk|gas|soup|aerosol|coffee|food) cans?\b",
    re.IGNORECASE,
)
_PARSED: dict[tuple[str, tuple[str, ...]], Parsed | None] = {}
# The subject before an action that was parsed as one stand-in ("an old fisherman" of "an old fisherman mending
# nets"), with its own parse: its words take synonyms like any other ("an elderly fisherman mending nets").
_HEADS: dict[str, Parsed | None] = {}


def _parse_with_placeholders(phrases: list[str], descriptions: tuple[str, ...] = ()) -> list[Parsed | None]:
    """Parses of ``phrases`` with stand-ins: a placeholder is parsed as the noun "thing" and a name's
    description ("a caped vigilante in a dark cowl") as "someone" (or "something"), then put back in the
    tokens, so "[[0]] narrating in a studio" and "<description> feeding pigeons" restate like
    "someone narrating in a studio": the parser never misreads a description's own words.

    Each phrase is parsed once (cached per phrase, the new ones of a call in one batch): a long prompt whose
    lines differ in one name's description costs one parse of that phrase, not of the whole prompt."""
    new = list(dict.fromkeys(p for p in phrases if (p, descriptions) not in _PARSED))
    if new:
        if len(_PARSED) + len(new) > 16_384:
            _PARSED.clear()
            new = list(dict.fromkeys(phrases))
        for phrase, toks in zip(new, _parse_stand_ins(new, descriptions), strict=True):
            _PARSED[(phrase, descriptions)] = toks
    return [_PARSED[(p, descriptions)] for p in phrases]


def _parse_stand_ins(phrases: list[str], descriptions: tuple[str, ...]) -> list[Parsed | None]:
    nps = sorted({d for d in descriptions if re.match(r"(?:a|an|the)\s", d, re.IGNORECASE)}, key=len, reverse=True)
    # a style's description after "in the style of" is one thing too: "impasto oil painting with bold strokes"
    # must not be parsed as someone "painting"
    styles = sorted({d for d in descriptions if d not in nps and len(d.split()) >= 3}, key=len, reverse=True)
    target = re.compile(
        "|".join(
            [
                _PH.pattern,
                _CAN_NOUN.pattern,
                *(r"(?<![\w])" + re.escape(d) + r"(?![\w])" for d in nps),
                *(r"(?<=style of )" + re.escape(d) + r"(?![\w])" for d in styles),
            ]
        ),
        re.IGNORECASE,
    )
    texts: list[str] = []
    records: list[list[tuple[str, str, str]]] = []
    for p in phrases:
        found: list[tuple[str, str, str]] = []

        def stand_in(m: re.Match[str], found: list[tuple[str, str, str]] = found) -> str:
            text = m.group(0)
            if _CAN_NOUN.fullmatch(text):
                kind, can = text.rsplit(" ", 1)
                found.append(("canister" + can[3:], can, "NN" if can.lower() == "can" else "NNS"))
                return f"{kind} canister{can[3:]}"
            if _PH.fullmatch(text) and text in descriptions:
                word, tag = "someone", "PHP"  # a weighted person: "(a glamorous woman …:1.3) sipping a milkshake"
            elif _PH.fullmatch(text):
                word, tag = "thing", "PH"
            elif describes_person(text):
                word, tag = "someone", "PHP"
            else:
                word, tag = "something", "PHT"
            if re.search(r"['’]s$", text) and not _PH.fullmatch(text):
                # "a hugely muscular bodybuilder's pose": the owner stands in, its "'s" stays ("someone's pose")
                found.append((word, text[:-2], tag))
                return word + text[-2:]
            found.append((word, text, tag))
            return word

        own = {w.lower() for w in re.findall(r"[A-Za-z]+", _PH.sub(" ", p))}
        if re.search(r"\w\[\[|\]\]\w", p) or own & set(_STAND_INS):
            # glued to a word ("nami [[0]]one piece[[1]]"), or a stand-in word already there: parse as written
            texts.append("" if _PH.search(p) else p)
            records.append([])
            continue
        texts.append(target.sub(stand_in, p) if nps or styles or _PH.search(p) or _CAN_NOUN.search(p) else p)
        records.append(found)
    parsed = parse_phrases(texts)
    out: list[Parsed | None] = []
    for found, toks in zip(records, parsed, strict=True):
        if toks is None or not found:
            out.append(toks)
            continue
        at = [t.i for t in toks if t.lower in _STAND_INS]
        if len(at) != len(found) or any(toks[i].lower != w for i, (w, _, _) in zip(at, found, strict=True)):
            out.append(None)
            continue
        put = {i: (text, tag) for i, (_, text, tag) in zip(at, found, strict=True)}
        out.append(tuple(replace(t, text=put[t.i][0], tag=put[t.i][1]) if t.i in put else t for t in toks))
    return out


# The words that are prepositions: the small parser sometimes tags a noun as one ("a medieval blacksmith/IN
# hammering a sword").
_PREPOSITIONS = frozenset(
    """about above across after against along amid amidst among around as at atop before behind below beneath
    beside besides between beyond by despite down during except for from in inside into like near of off on onto
    opposite out outside over past per since than through throughout till to toward towards under underneath
    unlike until up upon versus via with within without whether while because if though although unless once
    that so""".split()
)
_SEVERAL = re.compile(  # a count, never an age ("a 5-year-old girl")
    r"\b(?:and|or|\d+(?![-\ds])|two|three|four|five|six|seven|eight|nine|ten|dozens?|pairs?|couple)\b|&", re.I
)
_ACTION_FOLLOWERS = frozenset({"DT", "IN", "PRP$", "NN", "NNS", "CD", "JJ", "RP", "PH", "PHP", "PHT"})


# Things one counts that move on their own ("derelict mining ship drifting through an asteroid field" is "a … ship").
_VEHICLES = frozenset(
    """ship boat yacht sailboat car truck train tram bus motorcycle motorbike bicycle bike scooter tractor van jeep
    taxi ambulance airplane plane jet helicopter airship blimp zeppelin spaceship starship spacecraft rocket
    submarine locomotive robot mech drone satellite balloon""".split()
)
# Actions named with their noun before them ("window shopping", "ice skating"): the noun is no part of the doer.
_ACTIVITY_NOUNS = {
    "shopping": frozenset("window grocery christmas holiday gift".split()),
    "skating": frozenset("ice roller figure speed".split()),
    "climbing": frozenset("rock mountain ice tree wall".split()),
    "diving": frozenset("scuba sky cliff deep-sea".split()),
    "watching": frozenset("bird people whale star".split()),
    "riding": frozenset("horseback bike".split()),
    "biking": frozenset("mountain".split()),
    "surfing": frozenset("wind kite body channel".split()),
    "boarding": frozenset("snow skate wake".split()),
    "hopping": frozenset("bar island".split()),
    "hunting": frozenset("treasure ghost bargain".split()),
    "picking": frozenset("apple berry cherry strawberry".split()),
    "jumping": frozenset("bungee ski rope".split()),
    "gazing": frozenset("star".split()),
    "fighting": frozenset("sword fist".split()),
    "skiing": frozenset("water cross-country".split()),
}


def _reparse_action(phrase: str, toks: Parsed | None, descriptions: tuple[str, ...]) -> Parsed | None:
    """The small parser often misreads an action after a long noun phrase as a noun ("a man with a beard
    drinking/NN coffee", "a knight kneeling/NN before a queen"), and the subject then has no restatement.
    When an ``-ing`` verb right after a noun is not read as the noun's action, the phrase is parsed again
    with everything before it as one stand-in ("someone kneeling before a queen", the way a name's
    description is parsed), and that parse is kept when it reads the action as one."""
    if toks is None:
        return toks
    for t in toks[1:]:
        prev = toks[t.i - 1]
        noun_before = (
            prev.tag in ("NN", "NNS", "JJ")
            or (prev.tag == "IN" and prev.lower not in _PREPOSITIONS)
            or (prev.tag == "RB" and is_creature(prev))  # "a golden retriever/RB catching a frisbee"
        )
        if not (t.lower.endswith("ing") and noun_before and prev.text.isalpha()):
            continue  # after a preposition an -ing word is no action of the subject: "a knight in shining armor"
        if prev.lower in _ACTIVITY_NOUNS.get(t.lower, ()):
            return toks  # "a man window shopping": the noun is the action's ("window shopping"), no one "window"
        if t.dep == "amod" and t.head == t.i + 1 and not describes_person(prev.text):
            continue  # it describes the next noun (after someone it is what they do: "a fisherman mending nets")
        # "claymation frog playing banjo", as WebUI prompts are written: one creature without its article, parsed
        # and restated with it ("a claymation frog that plays banjo", never "giant tortoise is carrying a village")
        bare = (
            toks[0].text.islower()
            and all(x.tag in ("JJ", "NN", "VBN", "HYPH") and x.text.isascii() for x in toks[: t.i])
            and prev.tag in ("NN", "JJ", "RB")  # "old fisherman/JJ mending nets"
            and (is_creature(prev) or describes_person(prev.text) or prev.lower in _VEHICLES)
        )
        if t.i < 2 and not bare:
            continue
        if not bare and prev.tag == "JJ" and not (is_creature(prev) or describes_person(prev.text)):
            continue  # "a rusty watering can": an adjective before it is no one who waters
        if (
            not bare
            and t.tag == "VBG"
            and t.dep == "acl"
            and not any(x.dep == "ROOT" and x.tag.startswith("VB") for x in toks[: t.i])
        ):
            return toks  # read right (and no word of the subject read as its verb: "a 1980s synthwave/VBP detective")
        if t.i + 1 >= len(toks) or toks[t.i + 1].tag not in _ACTION_FOLLOWERS or present(t.text, False) is None:
            continue
        if t.tag.startswith("NN") and toks[t.i + 1].lower == "of":
            continue  # "a child's crayon drawing of a dinosaur", "an oil painting of a ship": a picture, no action
        if any(
            x.tag in ("VBZ", "VBP", "VBD") and toks[x.i + 1].tag in ("IN", "RP", "DT", "PRP$")
            for x in toks[1 : t.i - 1]
        ):
            return toks  # "A woman sits by the window reading a letter": a sentence of its own, no one stand-in
        misread = any(x.dep == "ROOT" and x.tag in ("VBP", "VBZ") for x in toks[: t.i])  # "synthwave/VBP"
        hung = t.tag == "VBG" and t.dep in ("acl", "pcomp") and prev.tag.startswith("NN") and not misread
        if hung and not bare and ((t.head == prev.i and is_creature(prev)) or not _creature_subject(toks)):
            # the people or animals it follows do it ("a square crowded with merchants selling fruit"), and
            # after a thing, what the parser hung it on does ("a cathedral with stained glass windows casting
            # red light", "a stack of pancakes with syrup dripping down"); only after a person or an animal
            # is a garment or a feature misread as the doer ("a vigilante in a dark cowl feeding pigeons")
            return toks
        head = "".join(x.text + x.ws for x in toks[: t.i]).strip()
        if any(x.lower in _CLAUSE_WORDS or (x.tag == "PRP" and x.dep == "nsubj") for x in toks[: t.i]):
            return toks  # a clause of its own before it ("… but she is a hacker wearing goggles"): no one thing
        pair = _two_people(head)  # "a grandmother and her granddaughter planting/NN tomatoes": both do it
        if not (bare or re.match(r"(?:a|an)\s", head, re.IGNORECASE)) or _PH.search(head):
            return toks
        if _SEVERAL.search(head) and not pair:
            return toks  # one stand-in is one thing: "two foxes", "a man and his dog" stay as parsed
        if bare:  # parsed, and restated, with its article: "a claymation frog that plays banjo"
            rest = phrase[len(head) :] if phrase.startswith(head) else None
            if rest is None:
                return toks
            head = article(head) + " " + head
            phrase = head + rest
        again = _parse_with_placeholders([phrase], tuple(sorted({*descriptions, head})))[0]
        if again is None:
            return toks
        verb = next((x for x in again if x.text == t.text), None)
        if verb is not None and verb.dep == "ROOT" and verb.tag == "VBG":
            again = _stand_in_acts(again, verb)
            verb = again[verb.i]
        if verb is None or verb.tag != "VBG" or verb.dep != "acl":
            return toks
        if not any(d.lower() in head.lower() for d in descriptions):  # the user's own words: they may vary
            if len(_HEADS) > 4096:
                _HEADS.clear()
            _HEADS[head] = _parse_with_placeholders([head], descriptions)[0]
        return again
    return toks


def _two_people(head: str) -> bool:
    """ "a grandmother and her granddaughter", "a boy and a girl": two people joined, each with its article or
    owner and no count, so one plural stand-in reads them (and the verb agrees with both)."""
    parts = re.split(r"\s+and\s+", head)
    return (
        len(parts) == 2
        and all(re.match(r"(?:a|an|the|his|her|their|my)\s", p, re.IGNORECASE) for p in parts)
        and not re.search(r"\d|,", head)
        and all(describes_person(p) for p in parts)
        and describes_several(head)
    )


def _reparse_bare(phrase: str, toks: Parsed | None) -> Parsed | None:
    """A prompt's bare opening noun phrase ("stir fry sizzling in a wok", "heat haze over a parking lot") is
    often misread by the small parser as a command or an adverb ("stir/VB fry", "haze/RB"), and then has no
    restatement; so is a first word read as the verb of the noun after it ("ruined/VBD concrete cooling tower",
    "praying/VBG mantis"). Then the phrase is parsed again after "a", and after "the", the way a sentence would
    say it; the first such parse that finds a noun there instead is kept, without the article."""
    if toks is None or len(toks) < 3 or _PH.search(phrase) or not toks[0].text.islower():
        return toks
    if toks[0].tag not in ("NN", "NNS", "JJ", "VB", "VBP", "VBN", "VBD", "VBG"):
        return toks
    root = next((t for t in toks if t.dep == "ROOT"), None)
    if root is None or root.i > 2 or root.tag not in ("VB", "VBP", "RB", "MD", "VBD", "VBG"):
        return toks
    if root.tag in ("VBD", "VBG") and (root.i != 0 or toks[1].tag not in ("JJ", "NN", "NNS")):
        return toks  # only a first word read as the verb of the noun after it: "ruined/VBD concrete cooling
        # tower", "praying/VBG mantis on a bell" (never "walking through a forest", which has no noun to be)
    for again in parse_phrases(["a " + phrase, "the " + phrase]):  # (the parser reads them differently)
        if again is None or [t.text for t in again[1:]] != [t.text for t in toks]:
            continue
        new_root = next((t for t in again if t.dep == "ROOT"), None)
        if new_root is None or new_root.i == 0 or new_root.tag not in ("NN", "NNS") or again[0].head != new_root.i:
            continue
        if root.tag in ("VBD", "VBG") and again[1].head == 0:
            continue
        if not any(t.head == 0 and t.i != 0 for t in again):
            return _without_first(again)
    return toks


def _without_first(again: Parsed) -> Parsed:
    """A parse without its first token (an article that only served the parser)."""
    return tuple(
        replace(
            t,
            i=t.i - 1,
            head=t.head - 1,
            left=max(t.left - 1, 0),
            right=t.right - 1,
            children=tuple(c - 1 for c in t.children if c != 0),
        )
        for t in again[1:]
    )


def _stand_in_acts(toks: Parsed, verb: Tok) -> Parsed:
    """ "someone planting tomatoes in a garden" parsed with the verb as the root and the stand-in hung on it
    (as a compound): the same words read as the stand-in doing it, the way the parser reads "a man reading a
    newspaper" (the stand-in the root, the verb its ``acl``). Any other shape is returned as it was."""
    first = toks[0]
    if first.tag not in ("PHP", "PHT", "PH") or first.head != verb.i or verb.i != 1 or first.children:
        return toks
    if first.dep not in ("compound", "nsubj", "npadvmod", "amod", "nmod"):
        return toks
    if any(x.dep == "ROOT" and x.i != verb.i for x in toks):
        return toks
    return tuple(
        replace(x, dep="ROOT", head=0, left=0, right=len(toks) - 1, children=(verb.i,))
        if x.i == 0
        else replace(x, dep="acl", head=0, left=verb.i, children=tuple(c for c in x.children if c != 0))
        if x.i == verb.i
        else x
        for x in toks
    )


def _descriptions(request: ParaphraseRequest) -> tuple[str, ...]:
    """Every name description the request knows: the canonical replacements and their variants."""
    out: list[str] = []
    for canonical, variants in request.hints.items():
        out.extend(x for x in (canonical, *variants.split("\n")) if x.strip())
    out.extend(request.people)  # "[[0]]" for "(a glamorous woman …:1.3)": parsed as "someone"
    return tuple(sorted(set(out)))


def _apply_hints(phrase: str, request: ParaphraseRequest, rng: random.Random) -> str:
    """A name's description, chosen evenly among the canonical one and its variants (the names module's). A
    phrase the user wrote as it stands holds no description, even when it says the same words ("Alphonse Mucha
    style, art nouveau border": the border stays "art nouveau", only the style varies)."""
    original = request.original or ""
    for canonical, alternatives_text in request.hints.items():
        if canonical and canonical in phrase and not (canonical in original and phrase.strip() in original):
            options = [canonical, *(a for a in alternatives_text.split("\n") if a and a != canonical)]
            choice = rng.choice(options)
            if choice != canonical:
                phrase = phrase.replace(canonical, choice, 1)
    return phrase


# The nouns of the framings, and the media words a framing noun repeats ("an image of a portrait", "a view of
# an underwater view").
_FRAMING_NOUNS = frozenset(
    """view image depiction scene portrayal representation rendition tableau glimpse frame composition
    interpretation vision picture look portrait photo photograph shot""".split()
)
_MEDIA = frozenset(
    """portrait photo photograph painting drawing illustration sketch render shot view image picture poster
    watercolor watercolour engraving woodcut print still""".split()
)
_OF_SUBJECT = re.compile(
    r"(?:who|whose|which|that|but|wearing|holding|dressed|clad|aged|about\s+\d+|\d+\s*(?:-\s*)?years?(?:\s*-\s*|\s+)old)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=256)
def _weighted_subject(original: str) -> bool:
    """Whether the prompt opens with its subject in a weight ("(portrait of an elderly man:1.2), deep wrinkles"):
    a framing after it would open on the next item ("behold deep wrinkles"), not on the subject."""
    m = re.match(r"\s*\((?P<body>[^():]+):\s*[\d.]+\)", original) or re.match(
        r"\s*\(+(?P<body>[^():]+)\)+\s*(?:,|$)",
        original,  # "((abandoned greenhouse)), overgrown ferns"
    )
    return m is not None and not is_trained_tag(m.group("body")) and " " in m.group("body").strip()


def _said_of_subject(item: str) -> bool:
    """Whether a comma item goes with the subject before it: an action ("trotting through a forest"), an age, a
    relative clause, what it wears or holds."""
    first = item.split(maxsplit=1)[0].lower() if item.split() else ""
    return bool(_OF_SUBJECT.match(item)) or (first.endswith("ing") and present(first, False) is not None)


def _creature_subject(toks: Parsed) -> bool:
    """Whether the phrase's first noun phrase names a person or an animal (or is a name's description of one)."""
    for t in toks:
        if t.tag.startswith(("NN", "PH")) and (t.i + 1 == len(toks) or not toks[t.i + 1].tag.startswith("NN")):
            return is_creature(t)
    return False


def _several_things(toks: Parsed | None) -> bool:
    """Whether the subject phrase names more than one thing: a plural head, a coordination, a count."""
    if not toks:
        return False
    root = next((t for t in toks if t.dep == "ROOT"), None)
    if root is None:
        return False
    if root.tag.startswith("VB"):
        root = next((toks[c] for c in root.children if toks[c].dep in ("nsubj", "nsubjpass")), root)
    if root.tag in ("NNS", "NNPS") or (root.tag == "PHP" and describes_several(root.text)):
        return True
    # a conjunct after the head's own preposition is the preposition's ("a villa with mosaic tiles and wavy
    # balconies": one villa, however the parser hung the balconies)
    prep = min((c for c in root.children if toks[c].dep == "prep" and c > root.i), default=len(toks))
    return any(toks[c].dep == "conj" and c < prep and toks[c].tag.startswith(("NN", "PH")) for c in root.children)


def _said_already(choice: str, toks: Parsed, subs: dict[int, str], i: int) -> bool:
    """Whether a one-word synonym for token ``i`` is a word the phrase already says, as written or as another
    token's synonym ("peaceful and quiet": "quiet" -> "peaceful" would say it twice)."""
    word = choice.lower()
    if " " in word:
        return False
    near = {toks[k].lower[:6] for k in (i - 1, i + 1) if 0 <= k < len(toks)}
    if len(word) >= 6 and word[:6] in near:
        return True  # "an empty desert highway" is never "a deserted desert highway"
    return any(subs.get(t.i, t.text).lower() == word for t in toks if t.i != i)


def _substituted(text: str, toks: Parsed | None, subs: dict[int, str]) -> str:
    if toks is None or not subs:
        return text
    return "".join(subs.get(t.i, t.text) + t.ws for t in toks).strip()


def _unframed(line: str) -> str:
    """``line`` without the opening a framing gave it ("Envision a cat …" → "a cat …")."""
    for framing in (*NP_FRAMINGS, *CLAUSE_FRAMINGS, *_PREFIX_FRAMINGS):
        lead = framing.split("{x}")[0]
        if lead and line.startswith(lead):
            return line[len(lead) :]
    return line


_CLOSE_UP = re.compile(r"close(?:-?up|\s+up)\b")

# The openings' own words ("Envision", "A scene showing", "Pictured:"): where they stand, no content.
_FRAMING_WORDS = frozenset(
    w.lower()
    for f in (*NP_FRAMINGS, *CLAUSE_FRAMINGS, *SPARE_FRAMINGS, *_PREFIX_FRAMINGS)
    for w in re.findall(r"[A-Za-z]+", f.replace("{x}", " "))
)
# Words that say nothing of the picture: a line's content is what is left (the framings' own words go too).
_GLUE = frozenset(
    """a an the of in on at to for with and or by from as is are was were be been being it its this that these those
    into onto over under near their there here which who whose what while very some any each his her""".split()
)


def _content(line: str) -> frozenset[str]:
    """The line's content words and its pairs of neighbouring words: what it says, and how it puts it together
    ("strawberry-like fur" and "fur that looks like a strawberry" share their words, not their pairs)."""
    words = [w for w in re.findall(r"[a-z0-9']+", line.lower()) if w not in _FRAMING_WORDS]
    said = [w for w in words if w not in _GLUE]
    return frozenset(said).union(f"{a} {b}" for a, b in itertools.pairwise(words))


def _spread(lines: list[str], n: int) -> list[str]:
    """The ``n`` of ``lines`` that say the picture in the most different words: the first line, then each time the
    line whose content words and word pairs differ most (summed Jaccard distance) from those already taken."""
    if len(lines) <= min(n, 2):
        return lines[:n]
    words = [_content(x) for x in lines]
    spread = [0.0] * len(lines)
    left = list(range(1, len(lines)))
    order = [0]
    while left and len(order) < n:
        last = words[order[-1]]
        for k in left:
            union = len(words[k] | last)
            spread[k] += 1.0 - len(words[k] & last) / union if union else 0.0
        best = max(left, key=lambda k: (spread[k], -k))
        order.append(best)
        left.remove(best)
    return [lines[k] for k in order]


def _bare_count_np(toks: Parsed) -> bool:
    """The phrase opens with a bare singular countable noun phrase ("cozy reading nook with a window seat",
    "cashier wearing a cap", "portrait of a fox"): a sentence would say it with "a"."""
    if toks and _CLOSE_UP.match(" ".join(t.lower for t in toks[:3]).replace(" - ", "-")):
        return True  # "close-up of a hummingbird": one close-up
    # "abandoned/VBD subway station": a past form opening a fragment has no subject, so it is an adjective
    if not toks or toks[0].tag not in ("NN", "NNS", "JJ", "VBG", "VBN", "VBD"):
        return False
    first = toks[0].text
    if not first.islower() and not (first[:1].isupper() and first[1:].islower() and is_english_word(first)):
        return False  # "Abandoned amusement park at night" opens a sentence; "Paris street" names a place
    for k, t in enumerate(toks[:8]):  # "neon-lit street food stall …": a hyphen takes two more tokens
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if t.tag == "NN" and nxt is not None and nxt.tag == "VBZ" and nxt.lower[:-1] in noun_lemmas():
            return False  # "ancient temple ruins overgrown with vines": "ruins" is a plural noun, misread as a verb
        if t.tag == "NN" and nxt is not None and nxt.tag == "JJ" and nxt.dep == "amod" and nxt.head > nxt.i:
            continue  # "handmade/NN ceramic mugs": an adjective the tagger took for a noun, before the noun's own
        if t.tag in ("NN", "NNS") and (k + 1 == len(toks) or toks[k + 1].tag not in ("NN", "NNS", "HYPH")):
            return (t.tag == "NN" and t.lower not in UNCOUNTED and t.text.isalpha()) or "-" in t.text
        if t.tag not in ("NN", "NNS", "JJ", "VBG", "VBN", "HYPH", ",") and not (k == 0 and t.tag == "VBD"):
            return False  # (a plural noun before another noun is a compound: "wireless earbuds case")
    return False


def _bare_noun(toks: Parsed | None) -> bool:
    """The phrase opens with a singular common noun and no determiner ("cashier wearing a cap")."""
    return bool(toks) and toks[0].tag == "NN" and toks[0].text.islower()  # type: ignore[index]


def _lower_first(text: str) -> str:
    """``text`` with its first letter lowered when that word is an ordinary English word ("The scene" →
    "the scene"), not a name ("Eiffel Tower") or an acronym."""
    m = re.match(r"([A-Z][a-z]+)\b(?!\s+[A-Z])(?!['’]s\b)", text)  # "Grandma's garden" keeps its capital
    if (m and is_english_word(m.group(1))) or re.match(r"(?:A|An)\s", text):  # "A glimpse of a grand lobby"
        return text[:1].lower() + text[1:]
    return text


def _tidy(text: str, source: str = "") -> str:
    """Spaces, doubled words and articles tidied after a restatement; a doubling the user wrote ("a right
    right turn" in ``source``, lower case) is theirs to keep."""
    text = re.sub(r"\s+,", ",", re.sub(r"\s{2,}", " ", text)).strip()

    def single(m: re.Match[str]) -> str:
        return m.group(0) if m.group(0).lower() in source else m.group(1)

    return fix_articles(_RE_DOUBLED.sub(single, text))


register_backend("rules", RulesBackend)
