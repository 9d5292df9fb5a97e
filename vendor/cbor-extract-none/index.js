throw new Error('cbor-extract native extension not installed; cbor-x uses its JavaScript decoder');
