/** The SM-DP's tables: the generic ones of @rsp/persistence plus the inventory. */
import { persistenceEntities, persistenceMigrations } from '@rsp/persistence';
import { MnoRecord } from './entities/mno.entity';
import { ProfileTypeRecord } from './entities/profile-type.entity';
import { SubscriptionRecord } from './entities/subscription.entity';
import { SmdpInit1767312000000 } from './migrations/1767312000000-smdp-init';
import { SmdpSubscriptionPickOrder1767744000000 } from './migrations/1767744000000-smdp-subscription-pick-order';

export const smdpEntities = [...persistenceEntities, MnoRecord, ProfileTypeRecord, SubscriptionRecord];
export const smdpMigrations = [...persistenceMigrations, SmdpInit1767312000000, SmdpSubscriptionPickOrder1767744000000];
