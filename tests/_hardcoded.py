"""'Solutions' that hard-code the answers of a public check, for the tests of the hidden
variants: run the public check once with the reference, record what the reference returned,
call by call, and replay those results whatever the inputs. Such an answer passes the public
check (the check makes the same calls in the same order) and must fail a hidden seed."""
import copy


class Recording:
    """``Recording(reference)``: ``.record`` behaves like the reference and keeps its results;
    ``.replay()`` is a new function returning the kept results in order, ignoring its inputs."""

    def __init__(self, reference):
        self.reference = reference
        self.results = []

    def record(self, *args, **kwargs):
        out = self.reference(*args, **kwargs)
        self.results.append(copy.deepcopy(out))
        return out

    def replay(self):
        calls = iter(range(10 ** 9))
        results = self.results

        def hard_coded(*args, **kwargs):
            return copy.deepcopy(results[next(calls) % len(results)])
        return hard_coded


def hard_coded(check, reference, *others):
    """A function that passes ``check(f, *others)`` (public inputs) by replaying the reference's
    answers; the reference is recorded on a run of the public check."""
    rec = Recording(reference)
    check(rec.record, *others)
    return lambda: rec.replay()


def hard_coded_class(check, reference_class, methods):
    """A class whose ``methods`` replay, call by call, what ``reference_class``'s methods
    returned in a run of the public check; other methods are the reference's. A method
    whose result is the instance itself (fit's ``return self``) replays ``self``."""
    log = {name: [] for name in methods}

    class Recorder(reference_class):
        pass

    for name in methods:
        def recorded(self, *args, _name=name, **kwargs):
            out = getattr(reference_class, _name)(self, *args, **kwargs)
            log[_name].append("self" if out is self else copy.deepcopy(out))
            return out
        setattr(Recorder, name, recorded)
    check(Recorder)

    def make():
        counters = {name: iter(range(10 ** 9)) for name in methods}

        class HardCoded(reference_class):
            pass

        for name in methods:
            def replayed(self, *args, _name=name, **kwargs):
                getattr(reference_class, _name)(self, *args, **kwargs)   # keep the state going
                out = log[_name][next(counters[_name]) % len(log[_name])]
                return self if isinstance(out, str) and out == "self" else copy.deepcopy(out)
            setattr(HardCoded, name, replayed)
        return HardCoded
    return make
