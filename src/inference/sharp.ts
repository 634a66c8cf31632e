import sharp from 'sharp';

/**
 * sharp as this server uses it: every module of src/ takes sharp from here (lint enforces it).
 *
 * libvips' operation cache (on by default: 100 operations, 50 MB) only pays when the same operation
 * runs on the same input again. Here every call is on new bytes (an upload, a stored image, a report's
 * map), so the cache only holds decoded images it will never hand out and serialises every call on its
 * lock. Measured with this module's decode of one 250x250 JPEG, new bytes per call, 3000 calls
 * (docs/performance.md): 8 concurrent, 5.0 -> 4.1-4.5 ms of CPU per image and 290 -> 380-430 images a
 * second; one at a time, 4.0-4.6 -> 3.5-4.1 ms. The setting is the process's (libvips has one cache).
 */
sharp.cache(false);

export default sharp;
