"""Plugin machinery: discovery and policy (:mod:`.loader`), the pluggy manager
(:mod:`.manager`), option and command registrars (:mod:`.options`, :mod:`.commands`)."""
