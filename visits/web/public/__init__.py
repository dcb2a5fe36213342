"""The citizen's pages: the catalogue, the slot picker, the details form and the
check-your-inbox page (``views``, ``forms``)."""
