"""The menu: items and their suppliers.

The domain: ``models``, ``service`` (reading the menu and changing it, with the rules
that protect orders), ``prices`` (the one price format) and ``cache`` (the public
menu's answers). The request layer on top: ``views`` (the public menu, the site's
home page), ``manage`` (the staff pages under ``/staff``) and ``forms``. Nothing
here imports them.
"""
