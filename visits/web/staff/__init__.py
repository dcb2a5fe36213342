"""The clerk's pages: login, agenda, weekly hours, absences, stranded appointments, phone
booking, calendar feed and upload (``views``, ``forms``)."""
