"""The HTML report of a fit (:func:`bayescred.report`)."""
