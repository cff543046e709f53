from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError
from odoo.osv import expression

from ..lib import visibility


class EmailSyncRedactionMixin(models.AbstractModel):
    """Fields a colleague may not see, hidden on the server at the few places
    every way of reading goes through, rather than path by path:

    - values: ``_read_from_database`` fills the reader's cache (Odoo 11 keys
      it by user) with redacted values, so ``read``, ``search_read``,
      exports, ``name_get`` and computed fields all get them;
    - conditions: ``_where_calc`` turns every domain into SQL (``search``,
      ``search_count``, ``name_search``, ``read_group``, and dotted paths
      from other models, which search this one): a condition on a hidden
      field holds only where the reader sees the field, so no count can
      tell a true guess from a false one;
    - names: what Odoo names as the superuser (group labels, chatter record
      names, attachment and activity names) gets a neutral name, since it
      may be shown to anyone; readers get names as they see them.

    Record rules decide which records a user reaches at all; this decides
    which fields of them. Every public method that changes something checks
    the caller's group and ownership itself (``_check_owner``): record rules
    alone do not apply to portal users.

    Odoo's superuser (uid 1) sees everything, as with every rule of Odoo 11.
    """
    _name = 'email.sync.redaction.mixin'
    _description = 'Email fields hidden below the sharing level'

    # {field name: visibility level (lib.visibility: metadata/subject/full/owner)}
    _redacted_fields = {}
    # Where the conversation's visibility is read from: '' on a thread itself.
    _share_path = ''

    is_owner = fields.Boolean(compute='_compute_is_owner',
                              help='The current user owns the mailbox this comes from.')

    def _compute_is_owner(self):
        rows = self._visibility_rows()
        for record in self:
            record.is_owner = rows.get(record.id, (None,))[0] == self.env.uid

    # --- which records show which fields -----------------------------------
    def _visibility_rows(self):
        """{id: (owner uid, visibility, share level)}, read from the database."""
        raise NotImplementedError

    def _visible_ids(self, level):
        """Ids of these records whose fields of ``level`` the current user sees."""
        if self.env.uid == SUPERUSER_ID:
            return set(self.ids)
        return {record_id for record_id, (owner, shared, share_level) in self._visibility_rows().items()
                if visibility.field_visible(level, shared, share_level, owner == self.env.uid)}

    def _visible_domain(self, level):
        """Records whose fields of ``level`` the current user sees."""
        path = self._share_path
        return ['|', ('user_id', '=', self.env.uid),
                '&', (path + 'visibility', '=', visibility.SHARED),
                (path + 'share_level', 'in', list(visibility.levels_showing(level)))]

    def _redacted_value(self, name):
        field = self._fields[name]
        if field.type == 'html':
            return '<p><em>%s</em></p>' % visibility.PLACEHOLDER
        if field.type == 'char' and name == self._rec_name:
            return '(%s)' % visibility.PLACEHOLDER
        return False

    # --- who may call what ---------------------------------------------------
    def _check_owner(self):
        """Only the owner of these records (a user of the email sync) may go on."""
        if self.env.uid == SUPERUSER_ID:
            return
        rows = self._visibility_rows()
        if not self.env.user.has_group('email_crm_sync.group_email_sync_user') or any(
                rows.get(record.id, (None,))[0] != self.env.uid for record in self):
            raise AccessError(_('Only the owner of this mail may do that.'))

    def _check_content_readable(self):
        """The current user may read these records' full content (to answer or
        forward them, say)."""
        if not self or self.env.uid == SUPERUSER_ID:
            return
        self.check_access_rule('read')
        if set(self.ids) - self._visible_ids(visibility.FULL):
            raise AccessError(_('The owner of this mail does not share its content with you.'))

    def check_access_rule(self, operation):
        # Odoo checks model access and rules apart; methods that check rules
        # only would let users without any access to these models (portal) through.
        self.check_access_rights('read')
        return super(EmailSyncRedactionMixin, self).check_access_rule(operation)

    # --- naming ------------------------------------------------------------
    @api.multi
    def name_get(self):
        if self.env.uid == SUPERUSER_ID:
            # Odoo names records as the superuser where anyone may read the
            # name (group labels, chatter, attachments): a neutral one.
            return [(record.id, self._neutral_display_name()) for record in self]
        return super(EmailSyncRedactionMixin, self).name_get()

    @api.model
    def _neutral_display_name(self):
        """The name anyone may read: no subject, no address."""
        return _('Email')

    # --- reading -----------------------------------------------------------
    def _read_from_database(self, field_names, inherited_field_names=[]):
        super(EmailSyncRedactionMixin, self)._read_from_database(field_names, inherited_field_names)
        names = [name for name in field_names if name in self._redacted_fields]
        if not names or self.env.uid == SUPERUSER_ID or not self:
            return
        rows = self._visibility_rows()
        cache = self.env.cache
        for record in self:
            if record.id not in rows:
                continue
            owner, shared, level = rows[record.id]
            for name in names:
                field = self._fields[name]
                # Records the rules refused hold an access error in cache: leave it there.
                if not cache.contains_value(record, field):
                    continue
                if not visibility.field_visible(self._redacted_fields[name], shared, level,
                                                owner == self.env.uid):
                    cache.set(record, field, field.convert_to_cache(
                        self._redacted_value(name), record, validate=False))

    # --- searching ---------------------------------------------------------
    @api.model
    def _where_calc(self, domain, active_test=True):
        # Every domain of every ORM path becomes SQL here (read_group too,
        # which never calls _search).
        if self.env.uid != SUPERUSER_ID and domain:
            domain = self._guard_domain(domain)
        return super(EmailSyncRedactionMixin, self)._where_calc(domain, active_test=active_test)

    @api.model
    def _search(self, args, offset=0, limit=None, order=None, count=False, access_rights_uid=None):
        if self.env.uid != SUPERUSER_ID and not self._all_visible(args, self._hidden_in_order(order)):
            order = self._guard_order(order)
        return super(EmailSyncRedactionMixin, self)._search(
            args, offset=offset, limit=limit, order=order, count=count,
            access_rights_uid=access_rights_uid)

    def _all_visible(self, domain, names):
        """Whether the reader sees the fields ``names`` on every record ``domain``
        matches (their own mail, say): then sorting or totalling by them tells
        nothing new. One query, only when such fields are asked for."""
        levels = {self._redacted_fields[name] for name in names}
        if not levels:
            return True
        hidden_somewhere = expression.OR([['!'] + self._visible_domain(level) for level in levels])
        return not super(EmailSyncRedactionMixin, self)._search(
            expression.AND([list(domain or []), hidden_somewhere]), limit=1)

    def _hidden_in_order(self, order):
        names = [part.split()[0].strip('"') for part in (order or '').split(',') if part.split()]
        return [name for name in names if name in self._redacted_fields]

    def _guard_domain(self, domain):
        """A condition on a hidden field holds only where the reader sees the field."""
        guarded = []
        # Negations pushed into the conditions first: "not (subject ilike x)"
        # must not match a record whose subject the reader does not see.
        for term in expression.distribute_not(expression.normalize_domain(list(domain or []))):
            if isinstance(term, (list, tuple)) and len(term) == 3 and isinstance(term[0], str):
                level = self._redacted_fields.get(term[0].split('.')[0])
                if level:
                    guarded += ['&', tuple(term)] + self._visible_domain(level)
                    continue
            guarded.append(term)
        return guarded

    def _guard_order(self, order):
        """Sorting by a hidden field would tell its values apart."""
        for part in (order or '').split(','):
            words = part.split()
            if words and words[0].strip('"') in self._redacted_fields:
                return None
        return order

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        if self.env.uid == SUPERUSER_ID:
            return super(EmailSyncRedactionMixin, self).read_group(
                domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy)
        groupbys = [groupby] if isinstance(groupby, str) else list(groupby or [])
        # Sums and averages of hidden fields are not shown either ("open_count:sum"),
        # unless the reader sees them on every record (their own mail); grouping
        # by them is handled below.
        grouped = {g.split(':')[0] for g in groupbys}
        totalled = [spec.split(':')[0] for spec in (fields or [])
                    if spec.split(':')[0] in self._redacted_fields and spec.split(':')[0] not in grouped]
        if totalled and not self._all_visible(domain, totalled):
            fields = [spec for spec in fields if spec.split(':')[0] not in totalled] or list(grouped)
        hidden = [g for g in groupbys if g.split(':')[0] in self._redacted_fields]
        if not hidden:
            groups = super(EmailSyncRedactionMixin, self).read_group(
                domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy)
            self._rename_linked_conversations(groups)
            return groups
        # Groups of hidden values would show them: those records form one group.
        visible_domain = []
        for name in hidden:
            visible_domain = expression.AND([visible_domain,
                                             self._visible_domain(self._redacted_fields[name.split(':')[0]])])
        domain = list(domain or [])
        groups = super(EmailSyncRedactionMixin, self).read_group(
            expression.AND([domain, visible_domain]), fields, groupby, offset=offset, limit=limit,
            orderby=self._guard_order(orderby) or False, lazy=lazy)
        rest_domain = expression.AND([domain, ['!'] + visible_domain])
        rest = self.search_count(rest_domain)
        if rest:
            first = groupbys[0] if lazy else None
            group = {'__domain': rest_domain}
            for name in (groupbys[:1] if lazy else groupbys):
                group[name] = '(%s)' % visibility.PLACEHOLDER
            group[('%s_count' % first.split(':')[0]) if lazy else '__count'] = rest
            if lazy and len(groupbys) > 1:
                group['__context'] = {'group_by': groupbys[1:]}
            groups.append(group)
        self._rename_linked_conversations(groups)
        return groups

    @api.multi
    def read(self, fields=None, load='_classic_read'):
        result = super(EmailSyncRedactionMixin, self).read(fields, load=load)
        if self.env.uid != SUPERUSER_ID and load == '_classic_read':
            self._rename_linked_conversations(result)
        return result

    def _rename_linked_conversations(self, rows):
        """Odoo 11 names many2one values (and groups of them) as the superuser,
        which gives neutral names here; links to redacted records (an email's
        conversation) are named as the reader sees them."""
        for name, field in self._fields.items():
            if field.type != 'many2one' or not any(
                    isinstance(row.get(name), (list, tuple)) for row in rows):
                continue
            Comodel = self.env[field.comodel_name]
            if not hasattr(Comodel, '_visibility_rows'):
                continue
            ids = {row[name][0] for row in rows if isinstance(row.get(name), (list, tuple))}
            readable = Comodel.with_context(active_test=False).search([('id', 'in', list(ids))])
            names = dict(readable.name_get())
            for row in rows:
                if isinstance(row.get(name), (list, tuple)):
                    row[name] = (row[name][0], names.get(row[name][0], '(%s)' % visibility.PLACEHOLDER))
