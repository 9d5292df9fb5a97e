/**
 * One client: its registration, the object tree from its links with names from the object
 * model, and every operation of LwM2M Device Management and Information Reporting
 * (Core §6.3, §6.4) on objects, instances and resources, with the outcome in words next to it.
 */
import {
  api,
  type DeviceResult,
  type JsonScalar,
  type ObjectModelJson,
  type ResourceModelJson,
  type ResourceTopicsJson,
  type ResourceType,
} from './api.js';
import { coalesce, h, replaceChildren } from './dom.js';
import { eventList } from './events-view.js';
import { formatAddress, formatDuration, formatTime, formatValue, READ_FORMATS, TYPE_NAMES } from './format.js';
import { Sparkline } from './plot.js';
import { valueKey, type Change, type ClientState, type HubState } from './state.js';
import { button, copyButton, objectModel, runOperation, setStatus, statusLine, type View } from './ui.js';
import { parseAttributes, parseExecuteArguments, parseInstanceId, parsePath, ATTRIBUTES, type PathLevel } from './validate.js';
import { uniqueId, valueField, type ValueField } from './value-input.js';

interface ObjectGroup {
  readonly id: number;
  readonly version: string | undefined;
  readonly instances: number[];
}

/** Objects and instances named by the registration's links (`</3/0>`, `</3303>`), in link order. */
function groupLinks(client: ClientState): ObjectGroup[] {
  const groups = new Map<number, ObjectGroup & { instances: number[] }>();
  for (const link of client.objectLinks) {
    const ids = link.path
      .split('/')
      .filter((s) => s !== '')
      .map(Number);
    const [objectId, instanceId] = ids;
    if (objectId === undefined || ids.some((id) => !Number.isInteger(id))) continue;
    let group = groups.get(objectId);
    if (!group) {
      const ver = link.attributes['ver'];
      group = { id: objectId, version: typeof ver === 'string' ? ver : ver !== undefined ? String(ver) : undefined, instances: [] };
      groups.set(objectId, group);
    }
    if (instanceId !== undefined && !group.instances.includes(instanceId)) group.instances.push(instanceId);
  }
  for (const group of groups.values()) group.instances.sort((a, b) => a - b);
  return [...groups.values()];
}

const linksKey = (client: ClientState) => client.registrationId + ' ' + client.objectLinks.map((l) => l.path).join(',');

/** A form that opens under what it acts on; Escape closes it. */
interface OpenForm {
  readonly element: HTMLElement;
  close(): void;
}

/** Security, Server and Access Control: shown, but not first. */
const FIRST_APPLICATION_OBJECT = 3;

export function clientView(state: HubState, endpoint: string, initialObject?: number): View {
  const heading = h('h1', { tabindex: '-1' }, endpoint);
  const badge = h('span', { class: 'badge' });
  const details = h('dl', { class: 'facts' });
  const gone = h('p', { class: 'banner', role: 'alert', hidden: true });
  const formatSelect = h('select', { id: uniqueId('format') }, ...READ_FORMATS.map((f) => h('option', { value: f.value }, f.label)));
  const tree = h('div', { class: 'tree' }, h('p', { class: 'muted' }, 'Loading the object tree…'));
  const objectList = h('ul', { class: 'object-list' });
  const clientEvents = h('div', { class: 'client-events' });
  const element = h(
    'section',
    { class: 'client-view' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← All clients')),
    h('header', { class: 'client-header' }, heading, badge),
    gone,
    details,
    h('div', { class: 'toolbar' }, h('label', { for: formatSelect.id }, 'Format for reads'), formatSelect),
    h('div', { class: 'client-layout' }, h('nav', { class: 'objects-nav', 'aria-label': 'Objects' }, objectList), tree),
    pathRequestForm(),
    h('section', { class: 'panel' }, h('h2', {}, 'Events of this client'), clientEvents),
  );

  const format = () => formatSelect.value || undefined;
  const rows = new Map<string, ResourceRow>();
  const instanceBlocks = new Map<string, InstanceBlock>();
  const objectBlocks = new Map<number, ObjectBlock>();
  const topics = new Map<string, ResourceTopicsJson>();
  let builtFor = '';
  let selected = initialObject;
  let openForm: OpenForm | undefined;
  let expiry: HTMLElement | undefined;

  // ---- header --------------------------------------------------------------------------------

  function renderHeader(): void {
    const client = state.clients.get(endpoint);
    if (!client) {
      gone.hidden = false;
      gone.textContent = `${endpoint} is not registered (any more). Values below are the last ones seen.`;
      badge.textContent = '';
      return;
    }
    gone.hidden = true;
    const address = formatAddress(client.address, client.port);
    badge.className = 'badge ' + (client.queueMode ? (client.awake === false ? 'sleeping' : client.awake ? 'awake' : '') : '');
    badge.textContent = client.queueMode ? (client.awake === undefined ? 'queue mode' : client.awake ? 'awake' : 'sleeping') : '';
    expiry = h('dd', { class: 'expiry' });
    const fact = (term: string, ...value: (Node | string)[]) => [h('dt', {}, term), h('dd', {}, ...value)];
    replaceChildren(
      details,
      fact('Address', address.text, ' ', h('span', { class: 'tag' }, address.family), ...(client.secure ? [' ', h('span', { class: 'tag' }, 'DTLS')] : [])),
      fact('LwM2M', client.lwm2mVersion),
      fact('Binding', client.binding + (client.queueMode ? ' (queue mode)' : '')),
      fact('Lifetime', formatDuration(client.lifetime)),
      h('dt', {}, 'Expires in'),
      expiry,
      fact('Registered', h('time', { datetime: client.registeredAt, title: client.registeredAt }, formatTime(client.registeredAt))),
      fact('Last update', h('time', { datetime: client.lastUpdate, title: client.lastUpdate }, formatTime(client.lastUpdate))),
      client.queueMode && client.queued ? fact('Waiting requests', String(client.queued)) : null,
      client.smsNumber ? fact('SMS', client.smsNumber) : null,
      fact('Registration id', h('code', {}, client.registrationId)),
    );
    tickExpiry();
  }

  function tickExpiry(): void {
    const client = state.clients.get(endpoint);
    if (client && expiry) expiry.textContent = formatDuration((Date.parse(client.expiresAt) - Date.now()) / 1000);
  }

  // ---- the tree ------------------------------------------------------------------------------

  async function buildTree(client: ClientState): Promise<void> {
    builtFor = linksKey(client);
    const groups = groupLinks(client);
    const [models, topicList, observations] = await Promise.all([
      Promise.all(groups.map((g) => objectModel(g.id, g.version))),
      api.topics(endpoint),
      api.observations(endpoint),
    ]);
    if (builtFor !== linksKey(client)) return; // re-registered meanwhile: a newer build runs
    if (topicList.ok) for (const t of topicList.body.topics) topics.set(t.path, t);
    if (observations.ok) state.setObservations(endpoint, observations.body);
    rows.clear();
    instanceBlocks.clear();
    objectBlocks.clear();
    closeForm();
    const blocks = groups.map((group, index) => new ObjectBlock(group, models[index]));
    replaceChildren(tree, blocks.length ? blocks.map((b) => b.element) : h('p', { class: 'muted' }, 'The client registered no objects.'));
    replaceChildren(
      objectList,
      blocks.map((b) => h('li', {}, b.link)),
    );
    selectObject(selected);
    // Values seen before the tree existed (the events replayed at start, earlier reads).
    for (const key of state.values.keys()) {
      const [ep, path] = key.split('\n') as [string, string];
      if (ep === endpoint) placeValue(path);
    }
  }

  /** One object at a time, as the Leshan demo does: the list beside it says what else there is. */
  function selectObject(id: number | undefined): void {
    const blocks = [...objectBlocks.values()];
    const chosen =
      (id !== undefined ? objectBlocks.get(id) : undefined) ?? blocks.find((b) => b.group.id >= FIRST_APPLICATION_OBJECT) ?? blocks[0];
    selected = chosen?.group.id ?? id;
    for (const block of blocks) {
      block.element.hidden = block !== chosen;
      if (block === chosen) block.link.setAttribute('aria-current', 'true');
      else block.link.removeAttribute('aria-current');
    }
  }

  /** A value arrived for `path`: update its row, or add the row (and instance) it needs. */
  function placeValue(path: string): void {
    const ids = path.split('/').slice(1).map(Number);
    if (ids.length < 3) return;
    const resourcePath = `/${ids[0]}/${ids[1]}/${ids[2]}`;
    let row = rows.get(resourcePath);
    if (!row) {
      const object = objectBlocks.get(ids[0] as number);
      if (!object) return;
      const instance = object.instance(ids[1] as number);
      row = instance.addRow(ids[2] as number);
    }
    row.update();
  }

  let pendingTopics: string[] = [];
  const fetchTopics = coalesce(() => {
    const paths = pendingTopics;
    pendingTopics = [];
    void api.topics(endpoint, paths).then((result) => {
      if (!result.ok) return;
      for (const t of result.body.topics) {
        topics.set(t.path, t);
        rows.get(t.path)?.showTopics();
      }
    });
  });

  function openFormAfter(anchor: Element, content: HTMLElement, asRow: boolean): OpenForm {
    closeForm();
    // Focus goes back where it came from (the button that opened the form) when it closes.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    const wrapper = asRow ? h('tr', { class: 'form-row' }, h('td', { colspan: '4' }, content)) : h('div', { class: 'form-block' }, content);
    anchor.after(wrapper);
    const form: OpenForm = {
      element: wrapper,
      close: () => {
        const hadFocus = wrapper.contains(document.activeElement);
        wrapper.remove();
        if (openForm === form) openForm = undefined;
        if (hadFocus && opener?.isConnected) opener.focus();
      },
    };
    wrapper.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') form.close();
    });
    openForm = form;
    return form;
  }

  function closeForm(): void {
    openForm?.close();
  }

  /** A form with its fields, a submit button, a cancel button and a message line for bad input. */
  function actionForm(
    title: string,
    fields: HTMLElement[],
    submitLabel: string,
    onSubmit: (submit: HTMLButtonElement, message: HTMLElement) => void,
    onCancel: () => void,
  ): HTMLFormElement {
    const message = h('p', { class: 'field-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
    const form = h(
      'form',
      {
        class: 'action-form',
        'aria-label': title,
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          message.textContent = '';
          onSubmit(submit, message);
        },
      },
      h('p', { class: 'form-title' }, title),
      h('div', { class: 'fields' }, fields),
      h('div', { class: 'form-actions' }, submit, button('Cancel', onCancel)),
      message,
    );
    return form;
  }

  // ---- objects -------------------------------------------------------------------------------

  class ObjectBlock {
    readonly element: HTMLElement;
    /** Its entry in the object list. */
    readonly link: HTMLAnchorElement;
    readonly #body: HTMLElement;
    readonly #status = statusLine();
    readonly #observe: HTMLButtonElement;
    readonly #path: string;
    readonly #linkPath = h('span', { class: 'path' });
    #instanceCount = 0;

    constructor(
      readonly group: ObjectGroup,
      readonly model: ObjectModelJson | undefined,
    ) {
      this.#path = `/${group.id}`;
      this.#linkPath.textContent = this.#path;
      objectBlocks.set(group.id, this);
      const title = model ? model.name : `Object ${group.id}`;
      this.#observe = button('Observe', () => observeToggle(this.#path, this.#observe, this.#status));
      const actions = h(
        'div',
        { class: 'actions' },
        button('Read', (e) => readPath(this.#path, e.currentTarget as HTMLButtonElement, this.#status)),
        this.#observe,
        button('Discover', (e) => discoverPath(this.#path, e.currentTarget as HTMLButtonElement, this.#status)),
        button('Attributes…', () => openAttributes(this.#path, actions)),
        button('Create…', () => this.#openCreate(actions)),
      );
      this.#body = h('div', { class: 'instances' });
      this.link = h(
        'a',
        { href: `#/clients/${encodeURIComponent(endpoint)}/${group.id}`, 'data-object': String(group.id) },
        h('span', { class: 'object-name' }, title),
        this.#linkPath,
      );
      this.element = h(
        'section',
        { class: 'object', 'data-path': this.#path },
        h(
          'header',
          { class: 'object-header' },
          h(
            'h2',
            {},
            title,
            ' ',
            h('span', { class: 'path' }, this.#path),
            model ? h('span', { class: 'muted' }, ` v${model.version}`) : null,
          ),
          !model ? h('span', { class: 'muted' }, ' (no definition: shown by id)') : null,
        ),
        actions,
        this.#status,
        this.#body,
      );
      for (const id of group.instances) this.instance(id);
      if (group.instances.length === 0)
        this.#body.append(h('p', { class: 'muted empty' }, 'No instances listed; read the object to see them.'));
      this.updateObserved();
    }

    instance(id: number): InstanceBlock {
      const path = `${this.#path}/${id}`;
      let block = instanceBlocks.get(path);
      if (!block) {
        block = new InstanceBlock(this, id);
        this.#body.querySelector('.empty')?.remove();
        // In id order.
        const after = [...instanceBlocks.values()].filter((b) => b.object === this && b.id < id).sort((a, b) => b.id - a.id)[0];
        if (after) after.element.after(block.element);
        else this.#body.prepend(block.element);
        instanceBlocks.set(path, block);
        this.#instanceCount++;
        this.#linkPath.textContent = `${this.#path} · ${this.#instanceCount} instance${this.#instanceCount === 1 ? '' : 's'}`;
      }
      return block;
    }

    updateObserved(): void {
      this.#observe.textContent = state.observations.get(endpoint)?.has(this.#path) ? 'Cancel observation' : 'Observe';
    }

    #openCreate(anchor: HTMLElement): void {
      const idInput = h('input', {
        id: uniqueId('instance'),
        type: 'text',
        inputMode: 'numeric',
        autocomplete: 'off',
        placeholder: 'device chooses',
      });
      const fields: HTMLElement[] = [h('span', { class: 'field' }, h('label', { for: idInput.id }, 'Instance id'), idInput)];
      const chosen: { resource: ResourceModelJson; include: HTMLInputElement; field: ValueField }[] = [];
      let json: HTMLTextAreaElement | undefined;
      if (this.model) {
        for (const resource of this.model.resources) {
          if (resource.type === 'none' || resource.multiple) continue;
          const include = h('input', { type: 'checkbox', checked: resource.mandatory, 'aria-label': `Include ${resource.name}` });
          const field = valueField(resource.type, `${resource.id} ${resource.name}`);
          chosen.push({ resource, include, field });
          fields.push(h('span', { class: 'create-resource' }, include, field.element));
        }
      } else {
        json = h('textarea', { id: uniqueId('resources'), rows: 3, placeholder: '[{"id": 0, "value": "text", "type": "string"}]' });
        fields.push(h('span', { class: 'field wide' }, h('label', { for: json.id }, 'Resources (JSON)'), json));
      }
      const status = statusLine();
      const form = actionForm(
        `Create an instance of ${this.model?.name ?? `object ${this.group.id}`}`,
        fields,
        'Create',
        (submit, message) => {
          const id = parseInstanceId(idInput.value);
          if (!id.ok) return void (message.textContent = id.message);
          const resources: { id: number; value: JsonScalar; type?: ResourceType }[] = [];
          for (const { resource, include, field } of chosen) {
            if (!include.checked) continue;
            const value = field.read();
            if (!value.ok) return void (message.textContent = `${resource.name}: ${value.message}`);
            resources.push({ id: resource.id, value: value.value.value });
          }
          if (json) {
            const parsed = parseResourceList(json.value);
            if (typeof parsed === 'string') return void (message.textContent = parsed);
            resources.push(...parsed);
          }
          const body = { ...(id.value !== undefined ? { id: id.value } : {}), resources };
          void runOperation(
            submit,
            status,
            'Creating…',
            () => api.create(endpoint, this.#path, body),
            (r) => (r.location ? `new instance ${r.location}` : ''),
          ).then((result) => {
            const location = result?.location?.split('/').filter((s) => s !== '');
            const instanceId = location ? Number(location.at(-1)) : id.value;
            if (result && instanceId !== undefined && Number.isInteger(instanceId)) this.instance(instanceId);
          });
        },
        () => created.close(),
      );
      const created = openFormAfter(anchor, h('div', {}, form, status), false);
      idInput.focus();
    }
  }

  // ---- instances -----------------------------------------------------------------------------

  class InstanceBlock {
    readonly element: HTMLElement;
    readonly path: string;
    readonly #tbody = h('tbody');
    readonly #status = statusLine();
    readonly #observe: HTMLButtonElement;
    #deleteArmed: ReturnType<typeof setTimeout> | undefined;

    constructor(
      readonly object: ObjectBlock,
      readonly id: number,
    ) {
      this.path = `/${object.group.id}/${id}`;
      this.#observe = button('Observe', () => observeToggle(this.path, this.#observe, this.#status));
      const remove: HTMLButtonElement = button('Delete', () => this.#delete(remove), { class: 'danger' });
      const actions = h(
        'div',
        { class: 'actions' },
        button('Read', (e) => readPath(this.path, e.currentTarget as HTMLButtonElement, this.#status)),
        this.#observe,
        button('Discover', (e) => discoverPath(this.path, e.currentTarget as HTMLButtonElement, this.#status)),
        button('Attributes…', () => openAttributes(this.path, actions)),
        remove,
      );
      this.element = h(
        'section',
        { class: 'instance', 'data-path': this.path },
        h('h3', {}, `Instance ${id} `, h('span', { class: 'path' }, this.path)),
        actions,
        this.#status,
        h(
          'table',
          { class: 'resources' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Resource'),
              h('th', { scope: 'col' }, 'Value'),
              h('th', { scope: 'col' }, 'MQTT topic'),
              h('th', { scope: 'col' }, 'Actions'),
            ),
          ),
          this.#tbody,
        ),
      );
      for (const resource of object.model?.resources ?? []) this.addRow(resource.id);
      this.updateObserved();
    }

    addRow(resourceId: number): ResourceRow {
      const path = `${this.path}/${resourceId}`;
      const existing = rows.get(path);
      if (existing) return existing;
      const row = new ResourceRow(
        this,
        resourceId,
        this.object.model?.resources.find((r) => r.id === resourceId),
      );
      const next = [...this.#tbody.querySelectorAll<HTMLTableRowElement>('tr.resource')].find(
        (tr) => Number(tr.dataset['id']) > resourceId,
      );
      this.#tbody.insertBefore(row.element, next ?? null);
      rows.set(path, row);
      if (!topics.has(path) && row.hasValue) {
        pendingTopics.push(path);
        fetchTopics();
      }
      return row;
    }

    updateObserved(): void {
      this.#observe.textContent = state.observations.get(endpoint)?.has(this.path) ? 'Cancel observation' : 'Observe';
    }

    #delete(remove: HTMLButtonElement): void {
      // Two steps instead of a modal confirm(): keyboard-friendly, and nothing blocks the page.
      if (this.#deleteArmed === undefined) {
        remove.textContent = `Confirm delete ${this.path}`;
        this.#deleteArmed = setTimeout(() => {
          remove.textContent = 'Delete';
          this.#deleteArmed = undefined;
        }, 5000);
        return;
      }
      clearTimeout(this.#deleteArmed);
      this.#deleteArmed = undefined;
      remove.textContent = 'Delete';
      void runOperation(remove, this.#status, 'Deleting…', () => api.delete(endpoint, this.path)).then((result) => {
        if (!result) return;
        this.element.classList.add('deleted');
        setStatus(this.#status, 'ok', `Deleted (${result.code}): ${this.path} no longer exists on the device`);
      });
    }
  }

  // ---- resources -----------------------------------------------------------------------------

  class ResourceRow {
    readonly element: HTMLTableRowElement;
    readonly path: string;
    readonly type: ResourceType;
    readonly #value = h('span', { class: 'value' });
    readonly #time = h('time', { class: 'muted' });
    readonly #topics = h('div', { class: 'topics' });
    readonly #status = statusLine();
    readonly #observe: HTMLButtonElement | undefined;
    readonly #plotHolder = h('div', { class: 'plot-holder' });
    #plot: Sparkline | undefined;

    constructor(
      readonly instance: InstanceBlock,
      readonly id: number,
      readonly model: ResourceModelJson | undefined,
    ) {
      this.path = `${instance.path}/${id}`;
      const seen = state.values.get(valueKey(endpoint, this.path));
      this.type = model?.type ?? seen?.type ?? 'unknown';
      const operations = model?.operations ?? 'RWE';
      const name = model?.name ?? `Resource ${id}`;
      const readable = operations.includes('R');
      const buttons: HTMLButtonElement[] = [];
      if (readable)
        buttons.push(
          button('Read', (e) => readPath(this.path, e.currentTarget as HTMLButtonElement, this.#status), { 'aria-label': `Read ${name}` }),
        );
      if (operations.includes('W')) buttons.push(button('Write…', () => this.#openWrite(), { 'aria-label': `Write ${name}` }));
      if (operations.includes('E')) buttons.push(button('Execute…', () => this.#openExecute(), { 'aria-label': `Execute ${name}` }));
      if (readable) {
        this.#observe = button('Observe', () => observeToggle(this.path, this.#observe as HTMLButtonElement, this.#status), {
          'aria-label': `Observe ${name}`,
        });
        buttons.push(
          this.#observe,
          button('Attributes…', () => openAttributes(this.path, this.element, true), { 'aria-label': `Attributes of ${name}` }),
        );
      }
      const facts = [
        TYPE_NAMES[this.type] ?? this.type,
        model?.units,
        model ? operationsText(model.operations) : undefined,
        model?.multiple ? 'multiple' : undefined,
      ].filter(Boolean);
      this.element = h(
        'tr',
        { class: 'resource', 'data-id': String(id), 'data-path': this.path },
        h(
          'th',
          { scope: 'row', 'data-label': 'Resource' },
          h('span', { class: 'resource-name', title: model?.description ?? '' }, name),
          h('span', { class: 'path' }, ` ${this.path}`),
          h('span', { class: 'muted facts-line' }, facts.join(' · ')),
        ),
        h('td', { 'data-label': 'Value' }, h('div', { class: 'value-line' }, this.#value, ' ', this.#time), this.#plotHolder),
        h('td', { 'data-label': 'MQTT topic' }, this.#topics),
        h('td', { 'data-label': 'Actions' }, h('div', { class: 'actions' }, buttons), this.#status),
      );
      this.showTopics();
      this.update();
    }

    get hasValue(): boolean {
      return this.type !== 'none';
    }

    showTopics(): void {
      const entry = topics.get(this.path);
      if (!this.hasValue) return void replaceChildren(this.#topics, h('span', { class: 'muted' }, '— (executable)'));
      if (!entry) return void replaceChildren(this.#topics, h('span', { class: 'muted' }, '—'));
      replaceChildren(
        this.#topics,
        entry.topics.map((topic) =>
          h('div', { class: 'topic' }, h('code', {}, topic), ' ', copyButton(topic, `the MQTT topic of ${this.path}`)),
        ),
        entry.retained ? null : h('span', { class: 'muted' }, 'not retained'),
      );
    }

    update(): void {
      const last = state.values.get(valueKey(endpoint, this.path));
      if (last) {
        this.#value.textContent = formatValue(last.value, last.type === 'unknown' ? this.type : last.type);
        const iso = new Date(last.time).toISOString();
        this.#time.dateTime = iso;
        this.#time.title = `${iso} (${last.source})`;
        this.#time.textContent = `${formatTime(last.time)} · ${last.source}`;
      } else {
        this.#value.textContent = this.hasValue ? '—' : '';
        this.#time.textContent = '';
      }
      const observedHere = state.observations.get(endpoint)?.has(this.path) ?? false;
      if (this.#observe) this.#observe.textContent = observedHere ? 'Cancel observation' : 'Observe';
      this.element.classList.toggle('observed', state.isObserved(endpoint, this.path));
      this.drawPlot();
    }

    /** Numeric values that are observed, or that changed at least once, get a plot. */
    drawPlot(): void {
      const points = state.series.get(valueKey(endpoint, this.path));
      const wanted = points !== undefined && points.length > 0 && (state.isObserved(endpoint, this.path) || points.length > 1);
      if (!wanted) return;
      if (!this.#plot) {
        this.#plot = new Sparkline(this.model?.name ?? this.path);
        this.#plotHolder.append(this.#plot.element);
      }
      this.#plot.draw(points);
    }

    #openWrite(): void {
      const last = state.values.get(valueKey(endpoint, this.path));
      const status = this.#status;
      const name = this.model?.name ?? this.path;
      if (this.model?.multiple) return this.#openWriteMultiple(last?.value);
      const current = last && typeof last.value !== 'object' ? last.value : last?.value === null ? null : undefined;
      const field = valueField(this.type, `New value of ${name}`, this.type === 'opaque' ? undefined : (current ?? undefined));
      const form = actionForm(
        `Write ${name}`,
        [field.element],
        'Write',
        (submit, message) => {
          const parsed = field.read();
          if (!parsed.ok) return void (message.textContent = parsed.message);
          const body = { value: parsed.value.value, ...(this.model ? {} : { type: parsed.value.type }) };
          void runOperation(submit, status, 'Writing…', () => api.write(endpoint, this.path, body));
        },
        () => opened.close(),
      );
      const opened = openFormAfter(this.element, form, true);
      field.focus();
    }

    #openWriteMultiple(current: unknown): void {
      const name = this.model?.name ?? this.path;
      const entries: { idInput: HTMLInputElement; field: ValueField; line: HTMLElement }[] = [];
      const list = h('div', { class: 'instances-list' });
      const addLine = (instanceId: string, value?: JsonScalar) => {
        const idInput = h('input', {
          type: 'text',
          inputMode: 'numeric',
          value: instanceId,
          class: 'short',
          'aria-label': 'Resource instance id',
        });
        const field = valueField(this.type, `Value`, this.type === 'opaque' ? undefined : (value ?? undefined));
        const line: HTMLElement = h(
          'div',
          { class: 'instance-line' },
          idInput,
          field.element,
          button('Remove', () => {
            line.remove();
            entries.splice(
              entries.findIndex((e) => e.line === line),
              1,
            );
          }),
        );
        entries.push({ idInput, field, line });
        list.append(line);
      };
      const existing = current && typeof current === 'object' ? Object.entries(current as Record<string, JsonScalar>) : [];
      if (existing.length) for (const [id, value] of existing) addLine(id, value);
      else addLine('0');
      const form = actionForm(
        `Write ${name} (every instance: the old ones are replaced)`,
        [list, button('Add instance', () => addLine(String(entries.length)))],
        'Write',
        (submit, message) => {
          const values: Record<string, JsonScalar> = {};
          for (const { idInput, field } of entries) {
            if (!/^\d{1,5}$/.test(idInput.value.trim()) || Number(idInput.value) > 65534)
              return void (message.textContent = 'A resource instance id is a whole number 0-65534.');
            const parsed = field.read();
            if (!parsed.ok) return void (message.textContent = `[${idInput.value.trim()}] ${parsed.message}`);
            values[String(Number(idInput.value))] = parsed.value.value;
          }
          void runOperation(submit, this.#status, 'Writing…', () => api.write(endpoint, this.path, { values }));
        },
        () => opened.close(),
      );
      const opened = openFormAfter(this.element, form, true);
      entries[0]?.field.focus();
    }

    #openExecute(): void {
      const name = this.model?.name ?? this.path;
      const input = h('input', { id: uniqueId('args'), type: 'text', autocomplete: 'off', placeholder: "optional, such as 0='on',1" });
      const form = actionForm(
        `Execute ${name}`,
        [h('span', { class: 'field' }, h('label', { for: input.id }, 'Arguments'), input)],
        'Execute',
        (submit, message) => {
          const args = parseExecuteArguments(input.value);
          if (!args.ok) return void (message.textContent = args.message);
          void runOperation(submit, this.#status, 'Executing…', () => api.execute(endpoint, this.path, args.value));
        },
        () => opened.close(),
      );
      const opened = openFormAfter(this.element, form, true);
      input.focus();
    }
  }

  // ---- operations shared by objects, instances and resources ----------------------------------

  function readPath(path: string, trigger: HTMLButtonElement | undefined, status: HTMLElement): Promise<DeviceResult | undefined> {
    return runOperation(
      trigger,
      status,
      'Reading…',
      () => api.read(endpoint, path, format()),
      (result) => {
        if (!result.content) return '';
        const count = state.recordNode(endpoint, result.content, Date.now(), 'read');
        return path.split('/').length > 3 ? '' : `${count} value${count === 1 ? '' : 's'}`;
      },
    );
  }

  function discoverPath(path: string, trigger: HTMLButtonElement, status: HTMLElement): void {
    void runOperation(
      trigger,
      status,
      'Discovering…',
      () => api.discover(endpoint, path),
      (result) =>
        (result.links ?? [])
          .map(
            (link) =>
              `<${link.uri}>` +
              Object.entries(link.attributes)
                .map(([k, v]) => (v === true || v === '' ? `;${k}` : `;${k}=${v}`))
                .join(''),
          )
          .join(', '),
    );
  }

  function observeToggle(path: string, trigger: HTMLButtonElement, status: HTMLElement): void {
    const observed = state.observations.get(endpoint)?.has(path) ?? false;
    if (observed) {
      void runOperation(
        trigger,
        status,
        'Cancelling…',
        () => api.cancelObservation(endpoint, path),
        () => 'observation cancelled',
      ).then((result) => {
        if (result) state.setObserved(endpoint, path, undefined);
      });
      return;
    }
    void runOperation(
      trigger,
      status,
      'Observing…',
      () => api.observe(endpoint, path, format()),
      () => 'observing: new values arrive live',
    ).then((result) => {
      if (!result) return;
      state.setObserved(endpoint, path, result.observationId ?? 'unknown');
      if (result.content) state.recordNode(endpoint, result.content, Date.now(), 'notify');
    });
  }

  function openAttributes(path: string, anchor: HTMLElement, asRow = false): void {
    const inputs = Object.fromEntries(
      ATTRIBUTES.map((name) => [
        name,
        h('input', { id: uniqueId(name), type: 'text', inputMode: 'decimal', autocomplete: 'off', class: 'short' }),
      ]),
    ) as Record<(typeof ATTRIBUTES)[number], HTMLInputElement>;
    const labels: Record<string, string> = { pmin: 'pmin (s)', pmax: 'pmax (s)', gt: 'gt', lt: 'lt', st: 'st' };
    const status = statusLine();
    const form = actionForm(
      `Write-Attributes ${path} (empty: unchanged, -: remove)`,
      ATTRIBUTES.map((name) => h('span', { class: 'field' }, h('label', { for: inputs[name].id }, labels[name] ?? name), inputs[name])),
      'Write attributes',
      (submit, message) => {
        const parsed = parseAttributes(Object.fromEntries(ATTRIBUTES.map((name) => [name, inputs[name].value])));
        if (!parsed.ok) return void (message.textContent = parsed.message);
        void runOperation(submit, status, 'Writing attributes…', () => api.writeAttributes(endpoint, path, parsed.value));
      },
      () => opened.close(),
    );
    const opened = openFormAfter(anchor, h('div', {}, form, status), asRow);
    inputs.pmin.focus();
  }

  // ---- request by path -----------------------------------------------------------------------

  function pathRequestForm(): HTMLElement {
    const operations: { value: string; label: string; levels: PathLevel[] }[] = [
      { value: 'read', label: 'Read', levels: ['object', 'instance', 'resource', 'resourceInstance'] },
      { value: 'observe', label: 'Observe', levels: ['object', 'instance', 'resource', 'resourceInstance'] },
      { value: 'cancel', label: 'Cancel observation', levels: ['object', 'instance', 'resource', 'resourceInstance'] },
      { value: 'discover', label: 'Discover', levels: ['object', 'instance', 'resource'] },
      { value: 'execute', label: 'Execute', levels: ['resource'] },
      { value: 'delete', label: 'Delete', levels: ['instance'] },
    ];
    const pathInput = h('input', { id: uniqueId('path'), type: 'text', autocomplete: 'off', placeholder: '/3/0/4', class: 'path-input' });
    const operation = h('select', { id: uniqueId('op') }, ...operations.map((o) => h('option', { value: o.value }, o.label)));
    const argsInput = h('input', { id: uniqueId('args'), type: 'text', autocomplete: 'off', placeholder: "0='on',1" });
    const argsField = h('span', { class: 'field', hidden: true }, h('label', { for: argsInput.id }, 'Arguments'), argsInput);
    operation.addEventListener('change', () => (argsField.hidden = operation.value !== 'execute'));
    const status = statusLine();
    const message = h('p', { class: 'field-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Send');
    const form = h(
      'form',
      {
        class: 'path-form',
        'aria-label': 'Request by path',
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          message.textContent = '';
          const chosen = operations.find((o) => o.value === operation.value) ?? (operations[0] as (typeof operations)[number]);
          const path = parsePath(pathInput.value, chosen.levels, chosen.label);
          if (!path.ok) return void (message.textContent = path.message);
          const target = path.value;
          switch (chosen.value) {
            case 'read':
              void readPath(target, submit, status).then((result) => {
                const resource =
                  result?.content && !('instances' in result.content) && !('resources' in result.content) ? result.content : undefined;
                if (resource)
                  setStatus(status, 'ok', `${status.textContent} · ${formatValue(resource.values ?? resource.value, resource.type)}`);
              });
              return;
            case 'observe':
              if (state.observations.get(endpoint)?.has(target)) return void (message.textContent = `${target} is observed already.`);
              return observeToggle(target, submit, status);
            case 'cancel':
              if (!state.observations.get(endpoint)?.has(target)) return void (message.textContent = `${target} is not observed.`);
              return observeToggle(target, submit, status);
            case 'discover':
              return discoverPath(target, submit, status);
            case 'execute': {
              const args = parseExecuteArguments(argsInput.value);
              if (!args.ok) return void (message.textContent = args.message);
              void runOperation(submit, status, 'Executing…', () => api.execute(endpoint, target, args.value));
              return;
            }
            case 'delete':
              void runOperation(submit, status, 'Deleting…', () => api.delete(endpoint, target));
              return;
          }
        },
      },
      h('h2', { class: 'form-title' }, 'Request by path'),
      h(
        'div',
        { class: 'fields' },
        h('span', { class: 'field' }, h('label', { for: pathInput.id }, 'Path'), pathInput),
        h('span', { class: 'field' }, h('label', { for: operation.id }, 'Operation'), operation),
        argsField,
        submit,
      ),
      message,
      status,
    );
    return h('section', { class: 'panel' }, form);
  }

  // ---- life cycle ----------------------------------------------------------------------------

  const events = eventList(state, { endpoint, limit: 30 });
  clientEvents.append(events.element);

  const onChange = (change: Change) => {
    if (change.kind === 'client' && change.endpoint === endpoint) {
      renderHeader();
      const client = state.clients.get(endpoint);
      if (client && linksKey(client) !== builtFor) void buildTree(client);
    } else if (change.kind === 'value' && change.endpoint === endpoint) {
      placeValue(change.path);
    } else if (change.kind === 'observations' && change.endpoint === endpoint) {
      for (const row of rows.values()) row.update();
      for (const block of instanceBlocks.values()) block.updateObserved();
      for (const block of objectBlocks.values()) block.updateObserved();
    } else if (change.kind === 'log') {
      events.refresh();
    }
  };
  const unsubscribe = state.subscribe(onChange);

  renderHeader();
  const client = state.clients.get(endpoint);
  if (client) void buildTree(client);
  else replaceChildren(tree, h('p', { class: 'muted' }, 'Waiting for the client to register…'));

  return {
    element,
    heading,
    navigate(next: string) {
      const match = /^\/clients\/([^/]+)(?:\/(\d+))?$/.exec(next);
      if (!match || decodeURIComponent(match[1] as string) !== endpoint) return false;
      selectObject(match[2] === undefined ? undefined : Number(match[2]));
      return true;
    },
    tick() {
      tickExpiry();
      for (const row of rows.values()) row.drawPlot();
    },
    destroy() {
      unsubscribe();
    },
  };
}

function operationsText(operations: string): string {
  const words: Record<string, string> = { R: 'read', W: 'write', E: 'execute' };
  return operations === '' ? 'no operations' : [...operations].map((o) => words[o] ?? o).join('/');
}

/** The JSON resources list of a Create on an object without a definition. */
function parseResourceList(text: string): { id: number; value: JsonScalar; type?: ResourceType }[] | string {
  if (text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'Resources must be JSON: [{"id": 0, "value": "text", "type": "string"}].';
  }
  if (
    !Array.isArray(parsed) ||
    parsed.some((r) => typeof r !== 'object' || r === null || !Number.isInteger((r as { id?: unknown }).id) || !('value' in r))
  ) {
    return 'Resources must be a list of {"id": <whole number>, "value": …}.';
  }
  return parsed as { id: number; value: JsonScalar; type?: ResourceType }[];
}
