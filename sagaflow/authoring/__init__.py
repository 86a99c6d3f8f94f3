"""Authoring skills: ``sagaflow new`` (:mod:`.scaffold`), ``sagaflow test`` (:mod:`.suite`
over :mod:`.runner`), the case format (:mod:`.cases`, :mod:`.casefile`) and expectations
(:mod:`.expect`). :mod:`sagaflow.testing` offers the runner to pytest."""
