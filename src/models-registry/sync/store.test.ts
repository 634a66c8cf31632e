import { InMemoryRegistryBus } from './bus';
import { InMemoryRegistryStore } from './store';
import { registryBusContract, registryStoreContract } from '../../../test/fixtures/models/registry-store-contract';

registryStoreContract('in memory', async () => new InMemoryRegistryStore());
registryBusContract('in memory', async () => new InMemoryRegistryBus());
