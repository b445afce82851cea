#!/usr/bin/env node
/**
 * Generates the bundled "shop" example data set: a synthetic e-commerce catalogue and the search
 * queries users typed before clicking an item.
 *
 *   node examples/shop/generate.mjs [--out DIR]     (default DIR: examples/shop/data)
 *
 * Writes DIR/corpus.jsonl ({"id","text"} per catalogue item), DIR/train.jsonl and DIR/test.jsonl
 * (JSONL pairs with query_id and item_id; some training lines carry hard negatives). Everything
 * is drawn from one seeded generator (seedrandom), so a run always writes byte-identical files.
 * See examples/shop/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';

const SEED = 'retrieval-lens/shop/v1';
const CLICKS = 27200; // (query, clicked item) draws, before dedupe and the test split
const FAMILY_SCALE = 1.8; // multiplies every category's family count
const TEST_QUERIES = 1500; // distinct test queries
const HARD_NEGATIVE_SHARE = 0.12; // share of eligible training lines that carry hard negatives
const TYPO_RATE = 0.1; // share of queries with one typo

// ---------------------------------------------------------------------------------------------
// Random helpers (all randomness goes through `rng`)
// ---------------------------------------------------------------------------------------------

const rng = seedrandom(SEED);
/** Integer in [lo, hi]. */
const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
const chance = (p) => rng() < p;
const pick = (list) => list[Math.floor(rng() * list.length)];
/** Fisher–Yates shuffle of a copy. */
function shuffled(list) {
  const out = list.slice();
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
/** k distinct elements, kept in their original order. */
function sampleInOrder(list, k) {
  const chosen = new Set(shuffled(list.map((_, i) => i)).slice(0, k));
  return list.filter((_, i) => chosen.has(i));
}
/** A contiguous run of k elements (for ordered values such as sizes and storage). */
function window(list, k) {
  const start = int(0, list.length - k);
  return list.slice(start, start + k);
}
/** The first form usually, another one sometimes. */
const pickForm = (forms) => (forms.length === 1 || chance(0.6) ? forms[0] : pick(forms.slice(1)));

// ---------------------------------------------------------------------------------------------
// Attribute values: [display in titles, ...forms users type]
// ---------------------------------------------------------------------------------------------

/** A value whose display is shown in titles and whose forms appear in queries. */
const v = (display, ...forms) => ({ display, forms: forms.length > 0 ? forms : [display.toLowerCase()] });
const gb = (n) => v(`${n}GB`, `${n}gb`, `${n} gb`, `${n}g`);
const tb = (n) => v(`${n}TB`, `${n}tb`, `${n} tb`);
const inch = (n) => v(`${n}-inch`, `${n} inch`, `${n}in`, `${n} in`);
const shoeSize = (n) => v(`Size ${n}`, `size ${n}`, `${n}`, `sz ${n}`, `eu ${n}`);
const colour = (display, base) => v(display, ...(display.toLowerCase() === base ? [base] : [base, display.toLowerCase()]));
const litres = (n) => v(`${n}L`, `${n}l`, `${n} l`, `${n} liter`);

const STORAGE = [gb(64), gb(128), gb(256), gb(512), tb(1)];
const RAM = [8, 16, 32, 64].map((n) => v(`${n}GB RAM`, `${n}gb ram`, `${n}gb`, `${n}g ram`));
const SSD = [
  v('256GB SSD', '256gb ssd', '256gb', '256 ssd'),
  v('512GB SSD', '512gb ssd', '512gb', '512 ssd'),
  v('1TB SSD', '1tb ssd', '1tb', '1 tb ssd'),
  v('2TB SSD', '2tb ssd', '2tb'),
];
const GENDER = [v("Men's", 'mens', "men's", 'men', 'for men'), v("Women's", 'womens', "women's", 'women', 'ladies', 'for women')];
const SHOE_SIZES = [37, 38, 39, 40, 41, 42, 43, 44, 45, 46].map(shoeSize);
const CLOTHING_SIZES = [
  v('Size XS', 'xs', 'size xs', 'extra small'),
  v('Size S', 's', 'size s', 'small'),
  v('Size M', 'm', 'size m', 'medium'),
  v('Size L', 'l', 'size l', 'large'),
  v('Size XL', 'xl', 'size xl', 'extra large'),
  v('Size XXL', 'xxl', 'size xxl', '2xl'),
];

const PHONE_COLOURS = [
  colour('Midnight Black', 'black'),
  colour('Arctic White', 'white'),
  colour('Ocean Blue', 'blue'),
  colour('Rose Gold', 'rose gold'),
  colour('Graphite Gray', 'gray'),
  colour('Mint Green', 'green'),
  colour('Coral Red', 'red'),
  colour('Lavender', 'purple'),
  colour('Titanium Silver', 'silver'),
];
const TECH_COLOURS = [
  colour('Silver', 'silver'),
  colour('Space Gray', 'gray'),
  colour('Midnight Blue', 'blue'),
  colour('Platinum White', 'white'),
  colour('Graphite Black', 'black'),
];
const AUDIO_COLOURS = [
  colour('Black', 'black'),
  colour('White', 'white'),
  colour('Silver', 'silver'),
  colour('Midnight Blue', 'blue'),
  colour('Sand Beige', 'beige'),
  colour('Forest Green', 'green'),
];
const SHOE_COLOURS = [
  colour('Triple Black', 'black'),
  colour('White', 'white'),
  colour('Black/White', 'black white'),
  colour('Fiery Red', 'red'),
  colour('Navy Blue', 'navy'),
  colour('Volt Green', 'green'),
  colour('Cool Grey', 'grey'),
  colour('Pink', 'pink'),
  colour('Sand', 'beige'),
];
const BOOT_COLOURS = [colour('Brown', 'brown'), colour('Black', 'black'), colour('Tan', 'tan'), colour('Olive', 'olive'), colour('Charcoal Grey', 'grey')];
const APPAREL_COLOURS = [
  colour('Black', 'black'),
  colour('White', 'white'),
  colour('Navy', 'navy'),
  colour('Heather Grey', 'grey'),
  colour('Olive Green', 'olive'),
  colour('Burgundy', 'burgundy'),
  colour('Sky Blue', 'light blue'),
  colour('Red', 'red'),
  colour('Mustard Yellow', 'yellow'),
  colour('Forest Green', 'green'),
];
const KITCHEN_COLOURS = [
  colour('Stainless Steel', 'stainless steel'),
  colour('Matte Black', 'black'),
  colour('White', 'white'),
  colour('Cherry Red', 'red'),
  colour('Copper', 'copper'),
  colour('Sage Green', 'green'),
];
const BAG_COLOURS = [
  colour('Black', 'black'),
  colour('Olive Green', 'olive'),
  colour('Navy', 'navy'),
  colour('Charcoal', 'grey'),
  colour('Burnt Orange', 'orange'),
  colour('Sand', 'beige'),
];

/** Model numbers: 1–3 consecutive ones after a prefix, e.g. X12, X13. */
const numbered =
  (prefixes, lo, hi, step = 1) =>
  () => {
    const prefix = pick(prefixes);
    const start = int(lo, hi) * step;
    const count = chance(0.45) ? 1 : int(2, 3);
    return Array.from({ length: count }, (_, i) => {
      const code = `${prefix}${start + i * step}`;
      return v(code, code.toLowerCase(), code.toLowerCase().replace(/(\D)(\d)/, '$1 $2'));
    });
  };
const noModel = () => [v('')];

// ---------------------------------------------------------------------------------------------
// Categories. `order` is the order of facets in titles; dims vary within a family (near-duplicate
// siblings), flags are fixed per family (one option of each group, present with probability p).
// ---------------------------------------------------------------------------------------------

const brand = (name, ...more) => v(name, name.toLowerCase(), ...more);
const ACME = brand('Acme');
const SAMSUNG = brand('Samsung', 'sam', 'samsng');
const ORION = brand('Orion');

const CATEGORIES = [
  {
    key: 'phone',
    families: 34,
    maxVariants: 14,
    brands: [ACME, SAMSUNG, brand('Pixelon'), brand('Novatek'), brand('Zephyr'), ORION],
    series: ['Phone', 'Nova', 'Astra', 'Pix', 'Volt', 'Edge'],
    model: numbered(['X', 'A', 'S', 'M', 'Z', 'N'], 10, 60),
    dims: [
      { key: 'edition', values: [v(''), v('Pro'), v('Max'), v('Lite'), v('Ultra'), v('Plus'), v('Mini')], pick: [1, 3], keepFirst: true },
      { key: 'storage', values: STORAGE, pick: [2, 3], ordered: true },
      { key: 'colour', values: PHONE_COLOURS, pick: [2, 4] },
    ],
    flags: [{ p: 0.4, options: [v('5G', '5g')] }],
    noun: { display: 'Smartphone', inTitle: 0.3, forms: ['phone', 'smartphone', 'mobile', 'cell phone', 'mobile phone', 'cellphone'] },
    order: ['brand', 'series', 'model', 'edition', 'flag', 'noun', 'storage', 'colour'],
    intents: ['cheap', 'best', 'new', 'unlocked', 'refurbished', 'deal'],
  },
  {
    key: 'laptop',
    families: 30,
    maxVariants: 12,
    brands: [brand('Vortex'), ACME, brand('Lumina'), brand('Kestrel'), SAMSUNG, ORION],
    series: ['AeroBook', 'ProBook', 'SlimBook', 'Flex', 'Nimbus', 'Titan'],
    model: numbered([''], 3, 9, 2),
    dims: [
      { key: 'screen', values: [inch(13), inch(14), inch('15.6'), inch(16), inch(17)], pick: [1, 2], ordered: true },
      { key: 'ram', values: RAM, pick: [1, 3], ordered: true },
      { key: 'ssd', values: SSD, pick: [1, 3], ordered: true },
      { key: 'colour', values: TECH_COLOURS, pick: [1, 2] },
    ],
    flags: [{ p: 0.35, options: [v('Gaming', 'gaming', 'for gaming'), v('2-in-1', '2 in 1', '2-in-1', 'convertible'), v('OLED', 'oled')] }],
    noun: { display: 'Laptop', inTitle: 1, forms: ['laptop', 'notebook', 'notebook computer', 'ultrabook'] },
    order: ['brand', 'series', 'model', 'flag', 'noun', 'screen', 'ram', 'ssd', 'colour'],
    intents: ['cheap', 'best', 'lightweight', 'for students', 'for work', 'deal'],
  },
  {
    key: 'tablet',
    families: 22,
    maxVariants: 12,
    brands: [ACME, SAMSUNG, brand('Pixelon'), brand('Lumina')],
    series: ['Tab', 'Pad', 'Slate'],
    model: numbered(['S', 'T', 'P'], 5, 12),
    dims: [
      { key: 'edition', values: [v(''), v('Pro'), v('Lite'), v('Plus')], pick: [1, 2], keepFirst: true },
      { key: 'screen', values: [inch(8), inch('10.5'), inch(11), inch('12.9')], pick: [1, 2], ordered: true },
      { key: 'storage', values: STORAGE.slice(0, 4), pick: [1, 3], ordered: true },
      { key: 'connectivity', values: [v('Wi-Fi', 'wifi', 'wi-fi'), v('Wi-Fi + Cellular', 'cellular', 'lte', '5g', 'with sim')], pick: [1, 2] },
      { key: 'colour', values: TECH_COLOURS, pick: [1, 2] },
    ],
    flags: [],
    noun: { display: 'Tablet', inTitle: 0.5, forms: ['tablet', 'tab', 'pad'] },
    order: ['brand', 'series', 'model', 'edition', 'noun', 'screen', 'storage', 'connectivity', 'colour'],
    intents: ['cheap', 'best', 'for kids', 'for drawing', 'deal'],
  },
  {
    key: 'headphones',
    families: 44,
    maxVariants: 6,
    brands: [brand('Sonora'), ACME, brand('Beatline'), brand('Pulse'), SAMSUNG],
    series: ['Studio', 'Air', 'Bass', 'Quiet', 'Echo', 'Wave'],
    model: numbered([''], 2, 9, 5),
    dims: [
      { key: 'edition', values: [v(''), v('II', 'ii', '2'), v('SE', 'se')], pick: [1, 2], keepFirst: true },
      { key: 'colour', values: AUDIO_COLOURS, pick: [2, 4] },
    ],
    flags: [
      { p: 0.8, options: [v('Wireless', 'wireless', 'bluetooth', 'cordless')] },
      { p: 0.5, options: [v('Noise Cancelling', 'noise cancelling', 'anc', 'noise canceling')] },
      {
        p: 1,
        options: [
          { ...v('Over-Ear', 'over ear', 'over-ear'), noun: 'Headphones' },
          { ...v('On-Ear', 'on ear', 'on-ear'), noun: 'Headphones' },
          { ...v('In-Ear', 'in ear', 'in-ear'), noun: 'Earbuds', nounForms: ['earbuds', 'earphones', 'buds'] },
        ],
      },
    ],
    noun: { display: 'Headphones', inTitle: 1, forms: ['headphones', 'headset', 'headphone'] },
    order: ['brand', 'series', 'model', 'edition', 'flag', 'noun', 'colour'],
    intents: ['best', 'cheap', 'for running', 'for travel', 'for gym', 'deal'],
  },
  {
    key: 'smartwatch',
    families: 24,
    maxVariants: 12,
    brands: [ACME, SAMSUNG, brand('Pulse'), ORION, brand('Trekk')],
    series: ['Watch', 'Fit', 'Active', 'Sport'],
    model: numbered([''], 3, 8),
    dims: [
      { key: 'case', values: [v('41mm', '41mm', '41 mm'), v('45mm', '45mm', '45 mm'), v('49mm', '49mm', '49 mm')], pick: [1, 2], ordered: true },
      { key: 'connectivity', values: [v('GPS', 'gps'), v('GPS + Cellular', 'cellular', 'lte', 'gps cellular')], pick: [1, 2] },
      {
        key: 'band',
        values: [v('Sport Band', 'sport band', 'rubber band'), v('Leather Band', 'leather', 'leather band'), v('Metal Link', 'metal', 'steel band')],
        pick: [1, 2],
      },
      { key: 'colour', values: TECH_COLOURS, pick: [1, 3] },
    ],
    flags: [],
    noun: { display: 'Smartwatch', inTitle: 0.6, forms: ['smartwatch', 'smart watch', 'watch', 'fitness watch'] },
    order: ['brand', 'series', 'model', 'noun', 'case', 'connectivity', 'colour', 'band'],
    intents: ['best', 'cheap', 'for running', 'for swimming', 'deal'],
  },
  {
    key: 'running-shoes',
    families: 30,
    maxVariants: 18,
    brands: [brand('Stride'), brand('Fleet'), brand('Apex'), brand('Kinetic')],
    series: ['Runner', 'Glide', 'Tempo', 'Cloud', 'Swift', 'Boost'],
    model: numbered([''], 2, 14),
    dims: [
      { key: 'gender', values: GENDER, pick: [1, 2] },
      { key: 'size', values: SHOE_SIZES, pick: [3, 5], ordered: true },
      { key: 'colour', values: SHOE_COLOURS, pick: [2, 4] },
    ],
    flags: [{ p: 0.25, options: [v('Trail', 'trail'), v('Wide', 'wide', 'wide fit')] }],
    noun: { display: 'Running Shoes', inTitle: 1, forms: ['running shoes', 'runners', 'running trainers', 'jogging shoes', 'trainers', 'running shoe'] },
    order: ['brand', 'series', 'model', 'flag', 'gender', 'noun', 'size', 'colour'],
    intents: ['cheap', 'best', 'lightweight', 'for marathon', 'cushioned', 'sale'],
  },
  {
    key: 'sneakers',
    families: 22,
    maxVariants: 16,
    brands: [brand('Urbano'), brand('Stride'), brand('Kickster'), brand('Apex')],
    series: ['Court', 'Classic', 'Retro', 'Street', 'Canvas'],
    model: numbered(['', '0'], 1, 9),
    dims: [
      { key: 'cut', values: [v('Low', 'low', 'low top'), v('Mid', 'mid'), v('High', 'high', 'high top', 'hi top')], pick: [1, 2] },
      { key: 'size', values: SHOE_SIZES, pick: [3, 5], ordered: true },
      { key: 'colour', values: SHOE_COLOURS, pick: [2, 3] },
    ],
    flags: [],
    noun: { display: 'Sneakers', inTitle: 1, forms: ['sneakers', 'trainers', 'shoes', 'sneaker', 'kicks'] },
    order: ['brand', 'series', 'model', 'cut', 'noun', 'size', 'colour'],
    intents: ['cheap', 'white', 'casual', 'retro', 'sale'],
  },
  {
    key: 'boots',
    families: 18,
    maxVariants: 14,
    brands: [brand('Trekk'), brand('Summit'), brand('Ridgeline'), brand('Apex')],
    series: ['Trail', 'Alpine', 'Ridge', 'Venture'],
    model: numbered([''], 1, 6),
    dims: [
      { key: 'gender', values: GENDER, pick: [1, 2] },
      { key: 'size', values: SHOE_SIZES, pick: [3, 5], ordered: true },
      { key: 'colour', values: BOOT_COLOURS, pick: [1, 3] },
    ],
    flags: [{ p: 0.6, options: [v('Waterproof', 'waterproof', 'water proof', 'gtx')] }],
    noun: { display: 'Hiking Boots', inTitle: 1, forms: ['hiking boots', 'boots', 'walking boots', 'trekking boots', 'hiking shoes'] },
    order: ['brand', 'series', 'model', 'flag', 'gender', 'noun', 'size', 'colour'],
    intents: ['best', 'cheap', 'for winter', 'lightweight', 'sale'],
  },
  {
    key: 't-shirt',
    families: 30,
    maxVariants: 16,
    brands: [brand('Loom'), brand('Threadly'), brand('Urbano'), brand('Northwind', 'north wind'), brand('Basico')],
    series: ['Classic Crew', 'Essential', 'Heavyweight', 'Pocket', 'V-Neck', 'Organic'],
    model: noModel,
    dims: [
      {
        key: 'fit',
        values: [v('Regular Fit', 'regular fit', 'regular'), v('Slim Fit', 'slim fit', 'slim'), v('Oversized', 'oversized', 'oversize', 'loose')],
        pick: [1, 2],
      },
      { key: 'size', values: CLOTHING_SIZES, pick: [3, 5], ordered: true },
      { key: 'colour', values: APPAREL_COLOURS, pick: [2, 4] },
    ],
    flags: [{ p: 0.3, options: [v('Cotton', 'cotton', '100% cotton'), v('Merino', 'merino', 'wool')] }],
    noun: { display: 'T-Shirt', inTitle: 1, forms: ['t-shirt', 'tee', 'tshirt', 't shirt', 'shirt'] },
    order: ['brand', 'series', 'flag', 'noun', 'fit', 'size', 'colour'],
    intents: ['plain', 'basic', 'cheap', 'mens', 'womens', 'pack'],
  },
  {
    key: 'hoodie',
    families: 20,
    maxVariants: 14,
    brands: [brand('Northwind', 'north wind'), brand('Loom'), brand('Threadly'), brand('Urbano')],
    series: ['Fleece', 'Tech', 'Everyday', 'Heritage', 'Campus'],
    model: noModel,
    dims: [
      { key: 'style', values: [v('Pullover', 'pullover', 'pull over'), v('Full-Zip', 'zip', 'zip up', 'full zip')], pick: [1, 2] },
      { key: 'size', values: CLOTHING_SIZES, pick: [3, 5], ordered: true },
      { key: 'colour', values: APPAREL_COLOURS, pick: [2, 3] },
    ],
    flags: [],
    noun: { display: 'Hoodie', inTitle: 1, forms: ['hoodie', 'sweatshirt', 'hooded sweatshirt', 'hoody'] },
    order: ['brand', 'series', 'style', 'noun', 'size', 'colour'],
    intents: ['warm', 'cheap', 'oversized', 'mens', 'womens'],
  },
  {
    key: 'jeans',
    families: 20,
    maxVariants: 16,
    brands: [brand('Rivet'), brand('Denimco', 'denim co'), brand('Loom'), brand('Urbano')],
    series: ['Slim', 'Straight', 'Skinny', 'Relaxed', 'Bootcut', 'Tapered'],
    model: numbered([''], 30, 59, 10),
    dims: [
      { key: 'waist', values: [28, 30, 32, 34, 36, 38].map((n) => v(`W${n}`, `w${n}`, `${n} waist`, `${n}`)), pick: [2, 4], ordered: true },
      { key: 'length', values: [30, 32, 34].map((n) => v(`L${n}`, `l${n}`, `${n} length`)), pick: [1, 2], ordered: true },
      {
        key: 'colour',
        values: [
          colour('Dark Wash', 'dark'),
          colour('Light Wash', 'light'),
          colour('Black', 'black'),
          colour('Mid Blue', 'blue'),
          colour('Stone Grey', 'grey'),
        ],
        pick: [1, 3],
      },
    ],
    flags: [{ p: 0.3, options: [v('Stretch', 'stretch'), v('Selvedge', 'selvedge', 'raw denim')] }],
    noun: { display: 'Jeans', inTitle: 1, forms: ['jeans', 'denim', 'denim jeans', 'pants'] },
    order: ['brand', 'model', 'series', 'flag', 'noun', 'waist', 'length', 'colour'],
    intents: ['mens', 'womens', 'cheap', 'high waisted', 'sale'],
  },
  {
    key: 'coffee-maker',
    families: 26,
    maxVariants: 8,
    brands: [brand('BrewMaster', 'brew master'), brand('Kaffa'), ACME, brand('Morningside'), brand('Barista', 'barista')],
    series: ['', 'Pro', 'Classic', 'Smart'],
    model: numbered(['CM', 'BX', 'K', 'EP'], 20, 90, 10),
    dims: [
      { key: 'capacity', values: [litres('1.2'), litres('1.5'), litres('1.8'), litres(2)], pick: [1, 2], ordered: true },
      { key: 'colour', values: KITCHEN_COLOURS, pick: [2, 4] },
    ],
    flags: [
      {
        p: 1,
        options: [
          { ...v('12-Cup Drip', 'drip', 'filter', '12 cup'), noun: 'Coffee Maker', nounForms: ['drip coffee maker', 'filter coffee machine'] },
          { ...v('Espresso', 'espresso', 'expresso'), noun: 'Machine', nounForms: ['espresso machine', 'espresso maker', 'expresso machine'] },
          {
            ...v('Pod', 'pod', 'capsule', 'single serve'),
            noun: 'Coffee Machine',
            nounForms: ['pod coffee machine', 'capsule machine', 'single serve coffee maker'],
          },
          { ...v('Cold Brew', 'cold brew'), noun: 'Coffee Maker', nounForms: ['cold brew maker'] },
        ],
      },
    ],
    noun: { display: 'Coffee Maker', inTitle: 1, forms: ['coffee maker', 'coffee machine', 'coffeemaker', 'cofee maker'] },
    order: ['brand', 'series', 'model', 'flag', 'noun', 'capacity', 'colour'],
    intents: ['best', 'cheap', 'automatic', 'programmable', 'small'],
  },
  {
    key: 'kettle',
    families: 18,
    maxVariants: 6,
    brands: [brand('Kaffa'), ACME, brand('Boilr'), brand('Morningside')],
    series: ['Rapid', 'Glass', 'Gooseneck', 'Classic'],
    model: numbered([''], 1, 9, 100),
    dims: [
      { key: 'capacity', values: [litres(1), litres('1.5'), litres('1.7')], pick: [1, 2], ordered: true },
      { key: 'colour', values: KITCHEN_COLOURS, pick: [2, 3] },
    ],
    flags: [{ p: 0.4, options: [v('Variable Temperature', 'variable temperature', 'temperature control', 'temp control')] }],
    noun: { display: 'Electric Kettle', inTitle: 1, forms: ['kettle', 'electric kettle', 'water boiler', 'tea kettle'] },
    order: ['brand', 'series', 'model', 'flag', 'noun', 'capacity', 'colour'],
    intents: ['cheap', 'quiet', 'fast', 'small'],
  },
  {
    key: 'blender',
    families: 16,
    maxVariants: 6,
    brands: [brand('Vitablend'), ACME, brand('NutriMax', 'nutri max'), brand('Kaffa')],
    series: ['Power', 'Personal', 'Smoothie', 'Pro'],
    model: numbered([''], 3, 9, 100),
    dims: [
      {
        key: 'power',
        values: [v('600W', '600w', '600 watt'), v('1000W', '1000w', '1000 watt'), v('1500W', '1500w', '1500 watt')],
        pick: [1, 2],
        ordered: true,
      },
      { key: 'colour', values: KITCHEN_COLOURS, pick: [1, 3] },
    ],
    flags: [],
    noun: { display: 'Blender', inTitle: 1, forms: ['blender', 'smoothie maker', 'smoothie blender', 'mixer'] },
    order: ['brand', 'series', 'model', 'noun', 'power', 'colour'],
    intents: ['best', 'cheap', 'for smoothies', 'powerful', 'small'],
  },
  {
    key: 'monitor',
    families: 26,
    maxVariants: 8,
    brands: [brand('Lumina'), ACME, brand('Vortex'), ORION, SAMSUNG],
    series: ['View', 'Pro', 'Gamer', 'Ultra'],
    model: numbered(['M', 'G', 'U'], 2, 8),
    dims: [
      { key: 'screen', values: [inch(24), inch(27), inch(32), inch(34)], pick: [1, 2], ordered: true },
      {
        key: 'resolution',
        values: [v('1080p', '1080p', 'full hd', 'fhd'), v('1440p', '1440p', 'qhd', '2k'), v('4K', '4k', 'uhd')],
        pick: [1, 2],
        ordered: true,
      },
      { key: 'refresh', values: [v('60Hz', '60hz'), v('144Hz', '144hz', '144 hz'), v('165Hz', '165hz'), v('240Hz', '240hz')], pick: [1, 2], ordered: true },
    ],
    flags: [{ p: 0.3, options: [v('Curved', 'curved'), v('USB-C', 'usb-c', 'usb c')] }],
    noun: { display: 'Monitor', inTitle: 1, forms: ['monitor', 'display', 'screen', 'computer monitor', 'gaming monitor'] },
    order: ['brand', 'series', 'model', 'flag', 'screen', 'resolution', 'refresh', 'noun'],
    intents: ['best', 'cheap', 'for gaming', 'for office', 'deal'],
  },
  {
    key: 'tv',
    families: 22,
    maxVariants: 6,
    brands: [brand('Lumina'), SAMSUNG, ORION, brand('Vistara'), ACME],
    series: ['Crystal', 'Neo', 'OLED', 'Vivid'],
    model: numbered(['C', 'Q', 'B'], 1, 9),
    dims: [
      { key: 'screen', values: [inch(43), inch(50), inch(55), inch(65), inch(75), inch(85)], pick: [2, 4], ordered: true },
      { key: 'resolution', values: [v('4K', '4k', 'uhd'), v('8K', '8k')], pick: [1, 1] },
    ],
    flags: [],
    noun: { display: 'Smart TV', inTitle: 1, forms: ['tv', 'smart tv', 'television', 'telly'] },
    order: ['brand', 'series', 'model', 'screen', 'resolution', 'noun'],
    intents: ['best', 'cheap', 'big', 'deal', 'for gaming'],
  },
  {
    key: 'backpack',
    families: 22,
    maxVariants: 6,
    brands: [brand('Northwind', 'north wind'), brand('Trekk'), brand('Summit'), brand('Carryon', 'carry on')],
    series: ['Commuter', 'Daypack', 'Trail', 'Urban', 'Voyager'],
    model: noModel,
    dims: [
      { key: 'capacity', values: [15, 20, 25, 30, 40].map((n) => v(`${n}L`, `${n}l`, `${n} l`, `${n} liter`)), pick: [1, 3], ordered: true },
      { key: 'colour', values: BAG_COLOURS, pick: [2, 3] },
    ],
    flags: [{ p: 1, options: [v('Laptop', 'laptop'), v('Hiking', 'hiking'), v('Travel', 'travel'), v('School', 'school')] }],
    noun: { display: 'Backpack', inTitle: 1, forms: ['backpack', 'rucksack', 'bag', 'daypack'] },
    order: ['brand', 'series', 'capacity', 'flag', 'noun', 'colour'],
    intents: ['waterproof', 'cheap', 'best', 'lightweight'],
  },
];

/** Spelling shortcuts users apply to single words. */
const WORD_SHORTCUTS = {
  black: ['blk'],
  white: ['wht'],
  grey: ['gray', 'gry'],
  gray: ['grey'],
  samsung: ['sam'],
  "men's": ['mens'],
  "women's": ['womens'],
  wireless: ['wirless', 'bt'],
  inch: ['in'],
  headphones: ['headphone'],
  coffee: ['cofee'],
  espresso: ['expresso'],
  cancelling: ['canceling'],
  stainless: ['ss'],
  steel: ['stl'],
  silver: ['slvr'],
  navy: ['navy blue'],
  green: ['grn'],
};

// ---------------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------------

/** All combinations of the families' chosen dim values. */
function product(lists) {
  return lists.reduce((acc, list) => acc.flatMap((combo) => list.map((x) => [...combo, x])), [[]]);
}

/** Builds the catalogue: families of near-duplicate variants, each variant one item. */
function buildCatalogue() {
  const items = [];
  const families = [];
  const titles = new Set();
  for (const category of CATEGORIES) {
    const familyNames = new Set();
    const familyCount = Math.round(category.families * FAMILY_SCALE);
    for (let f = 0; f < familyCount; f += 1) {
      const familyBrand = category.brands[f % category.brands.length];
      const series = pick(category.series);
      const models = category.model();
      const name = `${familyBrand.display}|${series}|${models.map((m) => m.display).join(',')}`;
      if (familyNames.has(name)) continue;
      familyNames.add(name);
      const flags = [];
      for (const group of category.flags) if (chance(group.p)) flags.push(pick(group.options));
      const nounOption = flags.find((flag) => flag.noun !== undefined);
      const nounDisplay = nounOption?.noun ?? category.noun.display;
      const noun = {
        display: chance(category.noun.inTitle) ? nounDisplay : '',
        forms: [...(nounOption?.nounForms ?? []), ...category.noun.forms],
      };
      const dimValues = category.dims.map((dim) => {
        const k = Math.min(int(dim.pick[0], dim.pick[1]), dim.values.length);
        if (dim.ordered) return window(dim.values, k);
        if (dim.keepFirst) return [dim.values[0], ...sampleInOrder(dim.values.slice(1), k - 1)];
        return sampleInOrder(dim.values, k);
      });
      const combos = product([models, ...dimValues]);
      const kept = sampleInOrder(combos, Math.min(combos.length, category.maxVariants));
      const family = { category, popularity: 0, members: [] };
      for (const [model, ...values] of kept) {
        const facets = {
          brand: familyBrand,
          series: v(series),
          model,
          noun,
          flag: flags.length > 0 ? { display: flags.map((x) => x.display).join(' '), forms: flags.flatMap((x) => x.forms), parts: flags } : v(''),
        };
        category.dims.forEach((dim, i) => {
          facets[dim.key] = values[i];
        });
        const title = category.order
          .map((key) => facets[key].display)
          .filter((d) => d !== '')
          .join(' ');
        if (titles.has(title)) continue;
        titles.add(title);
        const item = { id: '', title, facets, family, category };
        family.members.push(item);
        items.push(item);
      }
      if (family.members.length > 0) families.push(family);
    }
  }
  items.forEach((item, i) => {
    item.id = `p${String(i + 1).padStart(5, '0')}`;
  });
  // Popularity: Zipf over a random ranking of families, variants jittered within a family.
  shuffled(families).forEach((family, rank) => {
    family.popularity = 1 / Math.sqrt(rank + 1);
  });
  for (const item of items) item.weight = item.family.popularity * (0.2 + rng());
  return { items, families };
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

/** Keys of the item's facets that vary inside its family (what tells siblings apart). */
const variantKeys = (category) => ['model', ...category.dims.map((d) => d.key)];

/** A facet rendered the way a user might type it, or '' when the facet is empty. */
function say(item, key) {
  const facet = item.facets[key];
  if (facet === undefined || facet.forms.length === 0 || (facet.display === '' && key !== 'noun')) return '';
  if (key === 'flag')
    return facet.parts
      .filter(() => chance(0.7))
      .map((p) => pickForm(p.forms))
      .join(' ');
  return pickForm(facet.forms);
}

/** "acme x12 pro 256gb": brand, series, model, edition and a few attributes. */
function modelQuery(item) {
  const { category } = item;
  const keys = [];
  const model = item.facets.model.display;
  const hasModel = model !== '';
  if (chance(0.75) || !hasModel) keys.push('brand');
  // A bare number ("25") means little without its series ("quiet 25").
  if (chance(!hasModel || /^\d+$/.test(model) ? 0.95 : 0.5)) keys.push('series');
  if (hasModel) keys.push('model');
  const dims = category.dims.map((d) => d.key);
  if (dims.includes('edition')) keys.push('edition');
  const extra = sampleInOrder(
    dims.filter((k) => k !== 'edition'),
    int(0, 2),
  );
  if (chance(0.35)) keys.push('noun');
  keys.push(...extra);
  return keys;
}

/** "red mens running shoes size 42": attributes around the category noun, brand sometimes. */
function shopperQuery(item) {
  const dims = item.category.dims.map((d) => d.key).filter((k) => k !== 'edition');
  const front = dims.filter((k) => k === 'colour' || k === 'gender' || k === 'fit' || k === 'cut' || k === 'style');
  const back = dims.filter((k) => !front.includes(k));
  const keys = [];
  if (chance(0.4)) keys.push('brand');
  keys.push(...front.filter(() => chance(0.6)));
  if (chance(0.5)) keys.push('flag');
  keys.push('noun');
  keys.push(...sampleInOrder(back, int(1, Math.max(1, Math.min(2, back.length)))));
  return keys;
}

/** Renders facet keys to words; returns the text and the variant keys it expresses. */
function render(item, keys) {
  const words = [];
  const expressed = new Set();
  for (const key of keys) {
    const said = say(item, key);
    if (said === '') continue;
    words.push(said);
    expressed.add(key);
  }
  return {
    words: words
      .join(' ')
      .split(' ')
      .filter((w) => w !== ''),
    expressed,
  };
}

/** A fragment of the title: words dropped at random, the tail sometimes cut off. */
function titleQuery(item) {
  const kept = [];
  for (const key of item.category.order) {
    const display = item.facets[key].display;
    if (display === '') continue;
    for (const word of display.toLowerCase().split(' ')) if (!chance(0.35)) kept.push({ word, key });
  }
  const cut = chance(0.3) ? int(2, Math.max(2, kept.length)) : kept.length;
  const words = kept.slice(0, cut);
  return { words: words.map((w) => w.word), expressed: new Set(words.map((w) => w.key)) };
}

/** Applies a word shortcut ("black" → "blk") to some words. */
function shorten(words) {
  return words.map((word) => (WORD_SHORTCUTS[word] !== undefined && chance(0.2) ? pick(WORD_SHORTCUTS[word]) : word));
}

const KEY_NEIGHBOURS = {
  a: 'qsz',
  b: 'vgn',
  c: 'xdv',
  d: 'sfe',
  e: 'wrd',
  f: 'dgr',
  g: 'fht',
  h: 'gjy',
  i: 'uok',
  j: 'hku',
  k: 'jli',
  l: 'kop',
  m: 'nj',
  n: 'bmh',
  o: 'ipl',
  p: 'ol',
  q: 'wa',
  r: 'etf',
  s: 'adw',
  t: 'ryg',
  u: 'yij',
  v: 'cbf',
  w: 'qes',
  x: 'zcs',
  y: 'tuh',
  z: 'xa',
};

/** One typo in one word of four or more letters: swapped, dropped, doubled or mistyped letter. */
function addTypo(words) {
  const candidates = words.map((w, i) => (/^[a-z]{4,}$/.test(w) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return words;
  const at = pick(candidates);
  const w = words[at];
  const i = int(1, w.length - 2);
  const kind = int(0, 3);
  let typo;
  if (kind === 0) typo = w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2);
  else if (kind === 1) typo = w.slice(0, i) + w.slice(i + 1);
  else if (kind === 2) typo = w.slice(0, i) + w[i] + w.slice(i);
  else typo = w.slice(0, i) + pick(KEY_NEIGHBOURS[w[i]]) + w.slice(i + 1);
  return words.map((word, j) => (j === at ? typo : word));
}

/** One query a user might have typed before clicking `item`, with the variant keys it names. */
function makeQuery(item) {
  const roll = rng();
  let built;
  if (roll < 0.4) built = render(item, modelQuery(item));
  else if (roll < 0.65) built = render(item, shopperQuery(item));
  else if (roll < 0.85) built = titleQuery(item);
  else {
    built = render(
      item,
      modelQuery(item).filter((k) => k !== 'edition'),
    );
    const intent = pick(item.category.intents).split(' ');
    built.words = chance(0.5) ? [...intent, ...built.words] : [...built.words, ...intent];
  }
  let words = built.words.filter((w, i) => i === 0 || w !== built.words[i - 1]);
  if (words.length < 2) words = [...words, ...pickForm(item.facets.noun.forms).split(' ')];
  words = shorten(words);
  if (chance(0.08) && words.length > 2) {
    const i = int(0, words.length - 2);
    [words[i], words[i + 1]] = [words[i + 1], words[i]];
  }
  if (chance(TYPO_RATE)) words = addTypo(words);
  const variant = variantKeys(item.category);
  return { text: words.join(' '), expressed: [...built.expressed].filter((k) => variant.includes(k)) };
}

/** Siblings that differ from `item` in a variant attribute the query names: true hard negatives. */
function hardNegatives(item, expressed) {
  if (expressed.length === 0) return [];
  return item.family.members.filter((other) => other !== item && expressed.some((key) => other.facets[key].display !== item.facets[key].display));
}

// ---------------------------------------------------------------------------------------------
// Data set
// ---------------------------------------------------------------------------------------------

/** Draws an item index with probability proportional to its weight. */
function weightedSampler(items) {
  const cumulative = [];
  let total = 0;
  for (const item of items) cumulative.push((total += item.weight));
  return () => {
    const x = rng() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return items[lo];
  };
}

/** Builds catalogue, click pairs and the query-disjoint train/test split. */
function buildDataSet() {
  const { items } = buildCatalogue();
  const draw = weightedSampler(items);
  // Group (query, item) clicks by normalised query text; a query may lead to several items.
  const byQuery = new Map();
  for (let n = 0; n < CLICKS; n += 1) {
    const item = draw();
    const query = makeQuery(item);
    const key = query.text.toLowerCase().replace(/\s+/g, ' ').trim();
    let group = byQuery.get(key);
    if (group === undefined) byQuery.set(key, (group = { text: query.text, clicks: new Map() }));
    if (!group.clicks.has(item.id)) group.clicks.set(item.id, { item, expressed: query.expressed });
  }
  const groups = shuffled([...byQuery.values()]);
  const test = groups.slice(0, TEST_QUERIES);
  const train = groups.slice(TEST_QUERIES);

  const trainLines = [];
  train.forEach((group, q) => {
    for (const { item, expressed } of group.clicks.values()) {
      const line = { query_id: `tr-${String(q + 1).padStart(5, '0')}`, query: group.text, positive: item.title, item_id: item.id };
      const candidates = hardNegatives(item, expressed);
      if (candidates.length > 0 && chance(HARD_NEGATIVE_SHARE)) {
        line.negatives = sampleInOrder(candidates, Math.min(candidates.length, pick([1, 1, 2, 3]))).map((s) => ({ id: s.id, text: s.title }));
      }
      trainLines.push(line);
    }
  });
  const testLines = [];
  test.forEach((group, q) => {
    for (const { item } of group.clicks.values()) {
      testLines.push({ query_id: `te-${String(q + 1).padStart(4, '0')}`, query: group.text, positive: item.title, item_id: item.id });
    }
  });
  return {
    corpus: items.map((item) => ({ id: item.id, text: item.title })),
    train: shuffled(trainLines),
    test: testLines,
  };
}

/** Writes records as JSONL (one JSON object per line, "\n" endings). */
function writeJsonl(file, records) {
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = resolve(values.out ?? join(here, 'data'));
  mkdirSync(out, { recursive: true });
  const data = buildDataSet();
  writeJsonl(join(out, 'corpus.jsonl'), data.corpus);
  writeJsonl(join(out, 'train.jsonl'), data.train);
  writeJsonl(join(out, 'test.jsonl'), data.test);
  const testQueries = new Set(data.test.map((l) => l.query_id)).size;
  const withNegatives = data.train.filter((l) => l.negatives !== undefined).length;
  console.log(
    `wrote ${data.corpus.length} items, ${data.train.length} training pairs (${withNegatives} with hard negatives), ` +
      `${testQueries} test queries (${data.test.length} pairs) to ${out}`,
  );
}

main();
