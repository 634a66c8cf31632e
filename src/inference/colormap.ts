/**
 * The heatmap colour map: Google's Turbo (Mikhailov 2019, Apache-2.0), an improved rainbow map
 * whose luminance rises smoothly, so low values read dark blue and high values dark red.
 * The table is matplotlib 3.6's `turbo` sampled at its 256 entries as bytes
 * (`cm.get_cmap('turbo')(np.arange(256), bytes=True)`), so a heatmap here equals matplotlib's.
 */
const TURBO_HEX =
  '30123b31154232184a341b51351e5836215f37236538266c3929723a2c793b2f7f3c32853c358b3d37913e3a963f3d9c' +
  '4040a14043a64145ab4148b0424bb5434eba4350be4353c24456c74458cb455bce455ed24560d64563d94666dd4668e0' +
  '466be3466de64670e84673eb4675ed4678f0467af2467df4467ff64682f84584f94587fb4589fc448cfd438efd4291fe' +
  '4193fe4096fe3f98fe3e9bfe3c9dfd3ba0fc39a2fc38a5fb36a8f934aaf833acf631aff52fb1f32db4f12bb6ef2ab9ed' +
  '28bbeb26bde925c0e623c2e421c4e120c6df1ec9dc1dcbda1ccdd71bcfd41ad1d219d3cf18d5cc18d7ca17d9c717dac4' +
  '17dcc217debf18e0bd18e1ba19e3b81ae4b61be5b41de7b11ee8af20e9ac22eba924eca627eda329eea02cef9d2ff09a' +
  '32f19735f39438f4913bf48d3ff58a42f68746f7834af8804df97c51f97955fa7659fb725dfb6f61fc6c65fc6869fd65' +
  '6dfd6271fd5f74fe5c78fe597cfe5680fe5384fe5087fe4d8bfe4b8efe4892fe4695fe4498fe429bfd409efd3ea1fc3d' +
  'a4fc3ba6fb3aa9fb39acfa37aef937b1f836b3f835b6f735b9f534bbf434bef334c0f233c3f133c5ef33c8ee33caed33' +
  'cdeb34cfea34d1e834d4e735d6e535d8e335dae236dde036dfde36e1dc37e3da37e5d838e7d738e8d538ead339ecd139' +
  'edcf39efcd39f0cb3af2c83af3c63af4c43af6c23af7c039f8be39f9bc39f9ba38fab737fbb537fbb336fcb035fcae34' +
  'fdab33fda932fda631fda330fea12ffe9e2efe9b2dfe982cfd952bfd9229fd8f28fd8c27fc8926fc8624fb8323fb8022' +
  'fa7d20fa7a1ff9771ef8741cf7711bf76e1af66b18f56817f46516f36315f26014f15d13ef5a11ee5810ed550fec520e' +
  'ea500de94d0de84b0ce6490be5460ae3440ae24209e04008de3e08dd3c07db3a07d93806d73606d63405d43205d23005' +
  'd02f04ce2d04cb2b03c92903c72803c52602c32402c02302be2102bb1f01b91e01b61c01b41b01b11901ae1801ac1601' +
  'a91501a61401a31201a011019d10019a0e01970d01940c01910b018e0a018b09018708018407018106027d05027a0402';

/** 256 RGB triplets, row i = colour of value i/255. */
export const TURBO: Uint8Array = Uint8Array.from(Buffer.from(TURBO_HEX, 'hex'));

/**
 * Colour of a value in [0, 1] (clamped; NaN reads as 0), indexed as matplotlib does:
 * floor(v * 256), capped at 255.
 */
export function turboIndex(v: number): number {
  if (!(v > 0)) return 0;
  return Math.min(255, Math.floor(v * 256));
}

/** Interleaved RGB bytes of a [0, 1] map through the colour map. */
export function colourise(map: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(map.length * 3);
  for (let i = 0; i < map.length; i++) {
    const j = turboIndex(map[i]) * 3;
    out[i * 3] = TURBO[j];
    out[i * 3 + 1] = TURBO[j + 1];
    out[i * 3 + 2] = TURBO[j + 2];
  }
  return out;
}
