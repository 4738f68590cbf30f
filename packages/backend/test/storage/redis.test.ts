/** The storage conformance suite's key-storage part, against RedisKeyStorage. */
import { RedisKeyStorage } from "@crossauth/backend";
import { describeStorageConformance } from "./conformance/index.js";
import { deleteNamespace, newRedis, randomPrefix, redisAvailable, redisService } from "./redis-fixture.js";

describeStorageConformance(
  "redis",
  async () => {
    const redis = newRedis();
    const keyPrefix = randomPrefix();
    return {
      keyStorage: new RedisKeyStorage(redis, { keyPrefix }),
      reset: () => deleteNamespace(redis, keyPrefix),
      close: async () => {
        await deleteNamespace(redis, keyPrefix);
        await redis.quit();
      },
    };
  },
  { keysOnly: true, service: { name: redisService, available: redisAvailable } },
);
