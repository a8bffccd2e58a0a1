"""django-simple-history's ``HistoricalRecords``, with its ``.history`` manager class made
once per model.

simple-history's descriptor builds a new manager class on every access of ``.history``
(``Manager.from_queryset``: ``type()`` and ``inspect.getmembers`` over the queryset),
and every save that writes a history row accesses it: about a millisecond of CPU per row
written, two per public signature. The class depends only on the model, so it is made
once; each access still gets its own manager, bound to its instance.
"""

import functools

from simple_history import models as simple_history


class HistoryDescriptor(simple_history.HistoryDescriptor):
    @functools.cached_property
    def manager_cls(self):
        return self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance, owner):
        return self.manager_cls(self.model, instance)


class HistoricalRecords(simple_history.HistoricalRecords):
    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        made = sender.__dict__.get(self.manager_name)
        if isinstance(made, simple_history.HistoryDescriptor):  # not an abstract model
            setattr(
                sender,
                self.manager_name,
                HistoryDescriptor(
                    made.model, manager=made.manager_class, queryset=made.queryset_class
                ),
            )
